// Package mapper rebuilds calls from FreePBX CEL rows and decides the Binotel-format events
// the CRM receives (DESIGN §1, §3). It is pure: rows go in through Feed, events come out, and
// nothing here does I/O or keeps global state.
//
// A call is keyed by linkedid and opened by its originator's CHAN_START (uniqueid ==
// linkedid). Every channel of the call is classified from its name (classify.go): Local/
// helpers, internal phones (resource matches Config.ExtensionPattern) and trunks. A person
// "answers" when an internal phone becomes connected to the external party through bridges
// and Local ;1/;2 pairs (graph.go); the trunk's own ANSWER is never taken as a person.
// The call ends at LINKEDID_END, or through Expire / Flush.
package mapper

// Package mapper rebuilds calls from FreePBX CEL rows and decides the Binotel-format events
// the CRM receives (DESIGN §1, §3). It is pure: rows go in through Feed, events come out, and
// nothing here does I/O or keeps global state.
//
// A call is keyed by linkedid and opened by its originator's CHAN_START (uniqueid ==
// linkedid). Every channel of the call is classified from its name (classify.go): Local/
// helpers, internal phones (resource matches Config.ExtensionPattern) and trunks. One file
// per rule of DESIGN §3:
//
//   - mapper.go: Feed, routing each row to its call, the indexes across calls
//   - call.go: a call's state (its phase, the grouped fields of each rule) and the per-row dispatch
//   - direction.go: incoming, outgoing or internal, and the numbers
//   - destination.go: the internalNumber of receivedTheCall (ring group, queue, follow-me, the held ring burst)
//   - answer.go, graph.go: a person picks up (a phone reachable from the external party through bridges and Local pairs)
//   - transfer.go, park.go: transfers, the party followed across linkedids, parking
//   - clicktocall.go, conference.go: originates and conference rooms
//   - hangup.go: the end, billsec and disposition
//   - emit.go: the one way an event leaves a call, keeping the order the CRM relies on
//   - clock.go: CEL time, Expire, Deadline
//
// The trunk's own ANSWER is never taken as a person. The call ends at LINKEDID_END, or
// through Expire / Flush.
package mapper

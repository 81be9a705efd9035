package mapper

// IsOpen reports whether a call with this linkedid is open. Backfill uses it to follow the
// calls still open at the end of its range, and no others.
func (m *Mapper) IsOpen(linkedid string) bool {
	return m.calls[linkedid] != nil
}

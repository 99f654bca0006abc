package runtime

// ParkedRegistrations is how many sockets the parker holds registered.
func ParkedRegistrations() int {
	p := getParker()
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.byFD)
}

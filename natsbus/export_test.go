package natsbus

// kill ends b as a crashed node would: its connection closes without a
// goodbye to the other nodes' presence.
func (b *Bus) kill() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.presence.close(false)
	b.shutdown()
}

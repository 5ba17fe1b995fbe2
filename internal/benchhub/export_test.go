package benchhub

// SetAgentBuffer makes the agents' buffers n events long, so that a test
// fills one with a few messages.
func (s *Server) SetAgentBuffer(n int) { s.agentBuffer = n }

package server

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/parley-chat/parley"
)

// credentialMoves orders disassociations, which move visitor credentials
// from one contact to another, against the messages of visitors connected
// at that moment. The zero value is ready to use.
//
// A visitor connection reads its credential once, at hello, and keeps the
// contact id. Each disassociation holds its old contact's lock exclusively
// while it commits and then bumps gen; a visitor message holds its
// contact's lock shared while it is appended, and reads the credential
// again first whenever gen has moved since it last did (one atomic load in
// the common case).
type credentialMoves struct {
	gen   atomic.Uint64
	locks [64]sync.RWMutex // striped by contact id
}

func (m *credentialMoves) lock(contactID uint64) *sync.RWMutex {
	return &m.locks[contactID%uint64(len(m.locks))]
}

// move runs fn, a disassociation of contact from, exclusively of that
// contact's visitor messages.
func (m *credentialMoves) move(from uint64, fn func() (*parley.Disassociation, error)) (*parley.Disassociation, error) {
	mu := m.lock(from)
	mu.Lock()
	defer mu.Unlock()
	d, err := fn()
	if err == nil && d.Visitors > 0 {
		m.gen.Add(1)
	}
	return d, err
}

// erasing returns the lock an erasure of contact id holds while it
// commits (app.App.EraseContact): held, no visitor message of the contact
// is being stored; released, every visitor connection checks its contact
// again before its next message (asVisitor), so that one still standing for
// the erased contact finds it gone and writes nothing.
func (m *credentialMoves) erasing(id uint64) sync.Locker {
	return erasureLock{m, m.lock(id)}
}

type erasureLock struct {
	m  *credentialMoves
	mu *sync.RWMutex
}

func (l erasureLock) Lock() { l.mu.Lock() }

func (l erasureLock) Unlock() {
	l.m.gen.Add(1)
	l.mu.Unlock()
}

// visitorCred is what a visitor connection knows of its credential besides
// the contact id it stands for.
type visitorCred struct {
	hash string // SHA-256 of the visitor token; "" while the visitor has none
	gen  uint64 // s.moves.gen when the contact id was last read
}

// asVisitor runs fn, which acts as the visitor *contactID (sends its
// message), after making sure *contactID is still the contact the
// credential stands for, and so that no disassociation moves that
// credential while fn runs. An error reading the credential is returned
// without running fn.
func (s *Server) asVisitor(ctx context.Context, cred *visitorCred, contactID *uint64, fn func() error) error {
	for {
		mu := s.moves.lock(*contactID)
		mu.RLock()
		if g := s.moves.gen.Load(); g != cred.gen && cred.hash != "" {
			// ENOTFOUND once the contact was erased with its credentials.
			v, err := s.db.Visitor(ctx, cred.hash)
			if err != nil {
				mu.RUnlock()
				return err
			}
			cred.gen = g
			if v.ContactID != *contactID {
				mu.RUnlock()
				*contactID = v.ContactID
				continue // hold the lock of the contact it stands for now
			}
		} else if g != cred.gen && *contactID != 0 {
			// An identified visitor has no credential to read again, but
			// its contact may have been erased.
			if _, err := s.db.Contact(ctx, *contactID); err != nil {
				mu.RUnlock()
				return err
			}
			cred.gen = g
		}
		err := fn()
		mu.RUnlock()
		return err
	}
}

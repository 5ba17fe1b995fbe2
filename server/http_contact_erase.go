package server

import (
	"net/http"
	"sync"

	"github.com/parley-chat/parley"
)

// A contact's erasure (GDPR Art. 17), in HubSpot's shape: POST
// /crm/v3/objects/contacts/gdpr-delete with {"objectId"} or
// {"objectId","idProperty":"email"}.

// gdprDeleteInput is the body of gdpr-delete.
type gdprDeleteInput struct {
	ObjectID   string `json:"objectId"`
	IDProperty string `json:"idProperty"`
}

// handleContactErase answers gdpr-delete: 204 once the contact and
// everything Parley holds about it are gone for good (ContactStore.EraseContact),
// its conversations announced as deleted and its live visitor
// connections closed. Unlike HubSpot, an unknown email is 404 and is not
// blocked: the address may write again and becomes a new contact.
func (s *Server) handleContactErase() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		var in gdprDeleteInput
		if err := decodeJSON(w, r, &in); err != nil {
			return err
		}
		if in.ObjectID == "" {
			return parley.Errorf(parley.EINVALID, "objectId: required: the contact's id, or its email with idProperty \"email\"")
		}
		var c *parley.Contact
		var err error
		switch in.IDProperty {
		case "", "hs_object_id":
			id, perr := parseID(in.ObjectID)
			if perr != nil {
				return parley.Errorf(parley.ENOTFOUND, "contact %q not found", in.ObjectID)
			}
			c, err = s.db.Contact(ctx, id)
		case "email":
			c, err = s.db.ContactByEmail(ctx, in.ObjectID)
		default:
			return parley.Errorf(parley.EINVALID, "idProperty: %q is not \"email\" or \"hs_object_id\"", in.IDProperty)
		}
		if err != nil {
			return err
		}
		// The audit log records who erased which contact by its id alone:
		// nothing of what is erased (its email, its name) stays there.
		ctx = parley.WithAudit(ctx, &parley.AuditNote{Entry: parley.AuditEntry{
			Actor: auditActor(authFrom(ctx)), Address: s.auditAddr(r),
			Action: parley.AuditContactErase, ObjectType: "contact", ObjectID: idString(c.ID),
			Changes: []parley.AuditChange{},
		}})
		if _, err := s.app.EraseContact(ctx, userFrom(ctx), c.ID, s.moves.erasing(c.ID)); err != nil {
			return err
		}
		for _, v := range s.sockets.of(c.ID) {
			v.cn.failCode(parley.ENOTFOUND, "contact erased")
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// visitorSockets indexes the live visitor connections by the contact they
// stand for. The zero value is ready to use; it is safe for concurrent use.
type visitorSockets struct {
	mu        sync.Mutex
	byContact map[uint64]map[*visitorConn]bool
	contactOf map[*visitorConn]uint64
}

// track records that v stands for contact id now (0: none yet).
func (vs *visitorSockets) track(v *visitorConn, id uint64) {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	if old, ok := vs.contactOf[v]; ok && old == id {
		return
	}
	vs.forgetLocked(v)
	if id == 0 {
		return
	}
	if vs.byContact == nil {
		vs.byContact, vs.contactOf = map[uint64]map[*visitorConn]bool{}, map[*visitorConn]uint64{}
	}
	if vs.byContact[id] == nil {
		vs.byContact[id] = map[*visitorConn]bool{}
	}
	vs.byContact[id][v] = true
	vs.contactOf[v] = id
}

// forget drops v, whose connection has ended.
func (vs *visitorSockets) forget(v *visitorConn) {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	vs.forgetLocked(v)
}

func (vs *visitorSockets) forgetLocked(v *visitorConn) {
	id, ok := vs.contactOf[v]
	if !ok {
		return
	}
	delete(vs.contactOf, v)
	delete(vs.byContact[id], v)
	if len(vs.byContact[id]) == 0 {
		delete(vs.byContact, id)
	}
}

// of returns the connections that stand for contact id.
func (vs *visitorSockets) of(id uint64) []*visitorConn {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	out := make([]*visitorConn, 0, len(vs.byContact[id]))
	for v := range vs.byContact[id] {
		out = append(out, v)
	}
	return out
}

package server

import (
	"context"
	"net/http"

	"github.com/parley-chat/parley"
)

// Contacts in HubSpot's CRM v3 shape (docs/api.md, "CRM objects"): read,
// list and search, each limited to the contacts the caller may see.

// crmContact is a contact with its company, if it has one the store still
// holds.
type crmContact struct {
	c       *parley.Contact
	company *parley.Company
}

// contactKind maps contacts to HubSpot's contact properties.
var contactKind = crmKind[crmContact]{
	name: "contact",
	known: []string{"email", "firstname", "lastname", "phone", "company", "associatedcompanyid",
		"createdate", "lastmodifieddate", "hs_object_id", "unverified_email"},
	defaults:   []string{"createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"},
	searchable: []string{"email", "firstname", "lastname", "phone", "company", "unverified_email"},
	numeric:    []string{"hs_object_id", "associatedcompanyid"},
	dates:      []string{"createdate", "lastmodifieddate"},
	props: func(v *crmContact) map[string]string {
		c := v.c
		out := make(map[string]string, len(c.Properties)+10)
		for k, val := range c.Properties {
			out[k] = val
		}
		out["email"], out["firstname"], out["lastname"] = c.Email, c.FirstName, c.LastName
		out["phone"] = c.Properties["phone"]
		out["unverified_email"] = c.UnverifiedEmail
		out["company"], out["associatedcompanyid"] = "", ""
		if v.company != nil {
			out["company"], out["associatedcompanyid"] = v.company.Name, idString(v.company.ID)
		}
		out["createdate"], out["lastmodifieddate"] = crmTime(c.CreatedAt), crmTime(c.UpdatedAt)
		out["hs_object_id"] = idString(c.ID)
		return out
	},
}

// crmContactOf returns c with its company.
func (s *Server) crmContactOf(ctx context.Context, c *parley.Contact) (*crmContact, error) {
	out := &crmContact{c: c}
	if c.CompanyID == 0 {
		return out, nil
	}
	co, err := s.db.Company(ctx, c.CompanyID)
	if err != nil && parley.ErrorCode(err) != parley.ENOTFOUND {
		return nil, err
	}
	out.company = co
	return out, nil
}

// crmContactJSON is contact v in the API with the properties p asks for and,
// if asked, its company association.
func crmContactJSON(v *crmContact, p crmReadParams) crmObjectJSON {
	o := contactKind.object(v, v.c.ID, v.c.CreatedAt, v.c.UpdatedAt, p.properties)
	if p.associations && v.company != nil {
		o.Associations = map[string]crmAssociatedIDs{"companies": {Results: []crmAssociatedID{{ID: idString(v.company.ID), Type: "contact_to_company"}}}}
	}
	return o
}

func (s *Server) handleCRMContactGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		p, err := readParams(r, "companies")
		if err != nil {
			return err
		}
		v, err := s.viewerOf(ctx, userFrom(ctx))
		if err != nil {
			return err
		}
		raw := r.PathValue("contactId")
		var id uint64
		switch prop := r.URL.Query().Get("idProperty"); prop {
		case "", "hs_object_id":
			if id, err = parseID(raw); err != nil {
				return parley.Errorf(parley.ENOTFOUND, "contact %q not found", limitString(raw, 60))
			}
		case "email":
			c, err := s.db.ContactByEmail(ctx, raw)
			if parley.ErrorCode(err) == parley.ENOTFOUND {
				return parley.Errorf(parley.ENOTFOUND, "contact %q not found", limitString(raw, 60))
			} else if err != nil {
				return err
			}
			id = c.ID
		default:
			return parley.Errorf(parley.EINVALID, "idProperty must be hs_object_id or email")
		}
		if p.archived {
			return parley.Errorf(parley.ENOTFOUND, "contact %d not found among archived contacts; Parley archives none", id)
		}
		c, err := v.contact(ctx, id)
		if err != nil {
			return err
		}
		cc, err := s.crmContactOf(ctx, c)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, crmContactJSON(cc, p))
		return nil
	})
}

// crmContacts are the contacts for the list and search endpoints.
func (s *Server) crmContacts() crmObjects[parley.Contact, crmContact] {
	return crmObjects[parley.Contact, crmContact]{
		kind: contactKind, assoc: "companies", page: s.db.Contacts,
		id:   func(c *parley.Contact) uint64 { return c.ID },
		wrap: s.crmContactOf,
		sees: func(ctx context.Context, vw *viewer, c *parley.Contact) (bool, error) {
			return vw.seesContact(ctx, c.ID)
		},
		json: func(_ context.Context, _ *viewer, c *crmContact, p crmReadParams) (crmObjectJSON, error) {
			return crmContactJSON(c, p), nil
		},
		indexed: "email",
		find: func(ctx context.Context, email string) ([]*parley.Contact, error) {
			c, err := s.db.ContactByEmail(ctx, email)
			if parley.ErrorCode(err) == parley.ENOTFOUND {
				return nil, nil
			}
			return []*parley.Contact{c}, err
		},
	}
}

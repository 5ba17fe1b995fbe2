package server

import (
	"context"
	"net/http"
	"time"

	"github.com/parley-chat/parley"
)

// Associations of contacts and companies in HubSpot's CRM v4 shape, which
// HubSpot's clients use (client.crm.associations.v4.basicApi): a contact
// belongs to at most one company, its primary one in HubSpot's words, so
// associating a contact with a company replaces the company it had.

// HubSpot's association type ids between contacts and companies.
const (
	contactToCompanyPrimary = 1
	companyToContactPrimary = 2
	contactToCompany        = 279
	companyToContact        = 280
)

// crmAssociationJSON is one associated object in v4's shape.
type crmAssociationJSON struct {
	ToObjectID       string               `json:"toObjectId"`
	AssociationTypes []crmAssociationType `json:"associationTypes"`
}

type crmAssociationType struct {
	Category string  `json:"category"`
	TypeID   int     `json:"typeId"`
	Label    *string `json:"label"`
}

// associationTypes returns the types of the association of a contact and
// its company, seen from the contact (fromContact) or the company.
func associationTypes(fromContact bool) []crmAssociationType {
	primary, plain := companyToContactPrimary, companyToContact
	if fromContact {
		primary, plain = contactToCompanyPrimary, contactToCompany
	}
	return []crmAssociationType{
		{Category: "HUBSPOT_DEFINED", TypeID: primary, Label: ptr("Primary")},
		{Category: "HUBSPOT_DEFINED", TypeID: plain},
	}
}

// associationPath reads {objectType}, {objectId} and {toObjectType}: a
// contact and companies, or a company and contacts, the object one the
// caller may see; any other pair is ENOTFOUND.
func (s *Server) associationPath(r *http.Request) (v *viewer, contact *parley.Contact, company *parley.Company, err error) {
	ctx := r.Context()
	from, to := normalObjectType(r.PathValue("objectType")), normalObjectType(r.PathValue("toObjectType"))
	if from == "" || to == "" || from == to {
		return nil, nil, nil, parley.Errorf(parley.ENOTFOUND, "Parley keeps associations between contacts and companies only")
	}
	if v, err = s.viewerOf(ctx, userFrom(ctx)); err != nil {
		return nil, nil, nil, err
	}
	id, err := pathID(r, "objectId")
	if err != nil {
		return nil, nil, nil, parley.Errorf(parley.ENOTFOUND, "%s %q not found", from, limitString(r.PathValue("objectId"), 60))
	}
	if from == "contacts" {
		contact, err = v.contact(ctx, id)
	} else {
		company, err = v.company(ctx, id)
	}
	return v, contact, company, err
}

// toObjectID reads {toObjectId} as the contact or company the caller may
// see; anything else is ENOTFOUND.
func (v *viewer) toObject(ctx context.Context, r *http.Request, contact *parley.Contact, company *parley.Company) (*parley.Contact, *parley.Company, error) {
	id, err := pathID(r, "toObjectId")
	if err != nil {
		return nil, nil, parley.Errorf(parley.ENOTFOUND, "%q not found", limitString(r.PathValue("toObjectId"), 60))
	}
	if contact == nil {
		contact, err = v.contact(ctx, id)
	} else {
		company, err = v.company(ctx, id)
	}
	return contact, company, err
}

func (s *Server) handleAssociationsList() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		limit, err := queryLimit(r, parley.MaxLimit, parley.MaxLimit)
		if err != nil {
			return err
		}
		after, err := queryCursor(r, 0)
		if err != nil {
			return err
		}
		v, contact, company, err := s.associationPath(r)
		if err != nil {
			return err
		}
		out := page{}
		results := []crmAssociationJSON{}
		if contact != nil {
			if contact.CompanyID != 0 && contact.CompanyID > after {
				results = append(results, crmAssociationJSON{ToObjectID: idString(contact.CompanyID), AssociationTypes: associationTypes(true)})
			}
		} else {
			ids, err := v.visibleContacts(ctx, company.ID)
			if err != nil {
				return err
			}
			for _, id := range ids {
				if id <= after {
					continue
				}
				if len(results) == limit {
					out.Paging = nextPage(results[limit-1].ToObjectID)
					break
				}
				results = append(results, crmAssociationJSON{ToObjectID: idString(id), AssociationTypes: associationTypes(false)})
			}
		}
		out.Results = results
		s.writeJSON(w, http.StatusOK, out)
		return nil
	})
}

// crmDefaultAssociationJSON is the answer of PUT …/associations/default/…:
// HubSpot's BatchResponsePublicDefaultAssociation.
type crmDefaultAssociationJSON struct {
	Status      string                     `json:"status"`
	Results     []crmDefaultAssociationRow `json:"results"`
	StartedAt   time.Time                  `json:"startedAt"`
	CompletedAt time.Time                  `json:"completedAt"`
}

type crmDefaultAssociationRow struct {
	From            crmObjectID `json:"from"`
	To              crmObjectID `json:"to"`
	AssociationSpec struct {
		AssociationCategory string `json:"associationCategory"`
		AssociationTypeID   int    `json:"associationTypeId"`
	} `json:"associationSpec"`
}

type crmObjectID struct {
	ID string `json:"id"`
}

func (s *Server) handleAssociationPutDefault() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		started := s.now()
		v, contact, company, err := s.associationPath(r)
		if err != nil {
			return err
		}
		fromContact := contact != nil
		if contact, company, err = v.toObject(ctx, r, contact, company); err != nil {
			return err
		}
		if _, err := s.setContactCompany(ctx, contact.ID, company.ID); err != nil {
			return err
		}
		row := crmDefaultAssociationRow{From: crmObjectID{idString(contact.ID)}, To: crmObjectID{idString(company.ID)}}
		row.AssociationSpec.AssociationCategory, row.AssociationSpec.AssociationTypeID = "HUBSPOT_DEFINED", contactToCompany
		if !fromContact {
			row.From, row.To = row.To, row.From
			row.AssociationSpec.AssociationTypeID = companyToContact
		}
		s.writeJSON(w, http.StatusOK, crmDefaultAssociationJSON{Status: "COMPLETE", Results: []crmDefaultAssociationRow{row},
			StartedAt: started.UTC(), CompletedAt: s.now().UTC()})
		return nil
	})
}

func (s *Server) handleAssociationDelete() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		v, contact, company, err := s.associationPath(r)
		if err != nil {
			return err
		}
		if contact, company, err = v.toObject(ctx, r, contact, company); err != nil {
			return err
		}
		if contact.CompanyID == company.ID {
			if _, err := s.setContactCompany(ctx, contact.ID, 0); err != nil {
				return err
			}
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// setContactCompany makes company companyID (0: none) contact id's and
// announces the change after the commit. The caller has checked that it
// may see both.
func (s *Server) setContactCompany(ctx context.Context, id, companyID uint64) (*parley.Contact, error) {
	c, err := s.db.UpdateContact(ctx, id, func(c *parley.Contact) error { c.CompanyID = companyID; return nil })
	if err != nil {
		return nil, err
	}
	s.publishContact(ctx, c)
	return c, nil
}

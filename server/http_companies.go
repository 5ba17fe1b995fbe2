package server

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/parley-chat/parley"
)

// Companies in HubSpot's CRM v3 shape (docs/api.md, "CRM objects"). A
// caller sees a company through the contacts they may see, or because they
// created it (viewer.seesCompany).

var companyKind = crmKind[parley.Company]{
	name:       "company",
	known:      []string{"name", "domain", "createdate", "hs_lastmodifieddate", "hs_object_id"},
	defaults:   []string{"createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"},
	searchable: []string{"name", "domain"},
	numeric:    []string{"hs_object_id"},
	dates:      []string{"createdate", "hs_lastmodifieddate"},
	props: func(c *parley.Company) map[string]string {
		return map[string]string{
			"name": c.Name, "domain": c.Domain, "createdate": crmTime(c.CreatedAt),
			"hs_lastmodifieddate": crmTime(c.UpdatedAt), "hs_object_id": idString(c.ID),
		}
	},
}

// companyJSON is company c in the API with the properties p asks for and,
// if asked, the contacts of it that v may see.
func (v *viewer) companyJSON(ctx context.Context, c *parley.Company, p crmReadParams) (crmObjectJSON, error) {
	o := companyKind.object(c, c.ID, c.CreatedAt, c.UpdatedAt, p.properties)
	if p.associations {
		ids, err := v.visibleContacts(ctx, c.ID)
		if err != nil {
			return o, err
		}
		a := crmAssociatedIDs{Results: []crmAssociatedID{}}
		for _, id := range ids {
			a.Results = append(a.Results, crmAssociatedID{ID: idString(id), Type: "company_to_contact"})
		}
		o.Associations = map[string]crmAssociatedIDs{"contacts": a}
	}
	return o, nil
}

// companyInput is the body of creating or changing a company: HubSpot's
// SimplePublicObjectInput(ForCreate).
type companyInput struct {
	Properties   map[string]*string `json:"properties"`
	Associations []crmAssociationIn `json:"associations"`
}

// crmAssociationIn is one association given with a new object.
type crmAssociationIn struct {
	To struct {
		ID flexID `json:"id"`
	} `json:"to"`
	Types []struct {
		AssociationCategory string `json:"associationCategory"`
		AssociationTypeID   int    `json:"associationTypeId"`
	} `json:"types"`
}

// apply sets the properties of in on c: name and domain, the only ones a
// caller writes; others are EINVALID naming them. An empty or null domain
// removes it. A new company (create) without a name is named after its
// domain.
func (in *companyInput) apply(c *parley.Company, create bool) error {
	names := make([]string, 0, len(in.Properties))
	for k := range in.Properties {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		v := in.Properties[k]
		val := ""
		if v != nil {
			val = strings.TrimSpace(*v)
		}
		switch k {
		case "name":
			c.Name = val
		case "domain":
			if val == "" {
				c.Domain = ""
				continue
			}
			d, err := parley.CleanDomain(val)
			if err != nil {
				return parley.Errorf(parley.EINVALID, "properties.%s", parley.ErrorMessage(err))
			}
			c.Domain = d
		default:
			return parley.Errorf(parley.EINVALID, "properties.%s: a company has no property %q that may be written; write name or domain", limitString(k, 60), limitString(k, 60))
		}
	}
	if create && c.Name == "" && c.Domain != "" {
		c.Name = c.Domain
	}
	if err := parley.ValidateLine("properties.name", c.Name, true); err != nil {
		return err
	}
	return nil
}

// companyParam resolves {companyId} to a company the caller may see.
func (s *Server) companyParam(r *http.Request) (*viewer, *parley.Company, error) {
	ctx := r.Context()
	v, err := s.viewerOf(ctx, userFrom(ctx))
	if err != nil {
		return nil, nil, err
	}
	id, err := pathID(r, "companyId")
	if err != nil {
		return nil, nil, parley.Errorf(parley.ENOTFOUND, "company %q not found", limitString(r.PathValue("companyId"), 60))
	}
	co, err := v.company(ctx, id)
	return v, co, err
}

func (s *Server) handleCompanyGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		p, err := readParams(r, "contacts")
		if err != nil {
			return err
		}
		v, co, err := s.companyParam(r)
		if err != nil {
			return err
		}
		if p.archived {
			return parley.Errorf(parley.ENOTFOUND, "company %d not found among archived companies; Parley archives none", co.ID)
		}
		o, err := v.companyJSON(ctx, co, p)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, o)
		return nil
	})
}

func (s *Server) handleCompanyCreate() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		var in companyInput
		if err := decodeJSON(w, r, &in); err != nil {
			return err
		}
		u := userFrom(ctx)
		co := &parley.Company{CreatedBy: u.ID}
		if err := in.apply(co, true); err != nil {
			return err
		}
		v, err := s.viewerOf(ctx, u)
		if err != nil {
			return err
		}
		// Check every association before anything is written.
		var contacts []*parley.Contact
		for i, a := range in.Associations {
			for _, t := range a.Types {
				if t.AssociationCategory != "HUBSPOT_DEFINED" || t.AssociationTypeID != companyToContactPrimary && t.AssociationTypeID != companyToContact {
					return parley.Errorf(parley.EINVALID, "associations[%d].types: only HUBSPOT_DEFINED %d and %d (company to contact) are supported", i, companyToContact, companyToContactPrimary)
				}
			}
			c, err := v.contact(ctx, uint64(a.To.ID))
			if parley.ErrorCode(err) == parley.ENOTFOUND {
				return parley.Errorf(parley.EINVALID, "associations[%d].to.id: contact %d not found", i, a.To.ID)
			} else if err != nil {
				return err
			}
			contacts = append(contacts, c)
		}
		if err := s.db.CreateCompany(ctx, co); err != nil {
			return err
		}
		for _, c := range contacts {
			if _, err := s.setContactCompany(ctx, c.ID, co.ID); err != nil {
				return err
			}
		}
		o, err := v.companyJSON(ctx, co, crmReadParams{})
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusCreated, o)
		return nil
	})
}

func (s *Server) handleCompanyPatch() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		if p := r.URL.Query().Get("idProperty"); p != "" && p != "hs_object_id" {
			return parley.Errorf(parley.EINVALID, "idProperty must be hs_object_id")
		}
		v, co, err := s.companyParam(r)
		if err != nil {
			return err
		}
		var in companyInput
		if err := decodeJSON(w, r, &in); err != nil {
			return err
		}
		if len(in.Associations) > 0 {
			return parley.Errorf(parley.EINVALID, "associations: a change takes properties only; associate with PUT /crm/v4/objects/companies/{companyId}/associations/default/contacts/{contactId}")
		}
		if len(in.Properties) == 0 {
			return parley.Errorf(parley.EINVALID, "properties: nothing to change; write name or domain")
		}
		check := *co
		if err := in.apply(&check, false); err != nil {
			return err
		}
		co, err = s.db.UpdateCompany(ctx, co.ID, func(c *parley.Company) error { return in.apply(c, false) })
		if err != nil {
			return err
		}
		s.publishCompany(ctx, co.ID)
		o, err := v.companyJSON(ctx, co, crmReadParams{})
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, o)
		return nil
	})
}

// crmCompanies are the companies for the list and search endpoints.
func (s *Server) crmCompanies() crmObjects[parley.Company, parley.Company] {
	return crmObjects[parley.Company, parley.Company]{
		kind: companyKind, assoc: "contacts", page: s.db.Companies,
		id:   func(c *parley.Company) uint64 { return c.ID },
		wrap: func(_ context.Context, c *parley.Company) (*parley.Company, error) { return c, nil },
		sees: func(ctx context.Context, vw *viewer, c *parley.Company) (bool, error) { return vw.seesCompany(ctx, c) },
		json: func(ctx context.Context, vw *viewer, c *parley.Company, p crmReadParams) (crmObjectJSON, error) {
			return vw.companyJSON(ctx, c, p)
		},
		indexed: "domain",
		find: func(ctx context.Context, domain string) ([]*parley.Company, error) {
			return s.db.CompaniesByDomain(ctx, strings.ToLower(strings.TrimSpace(domain)))
		},
	}
}

// publishCompany tells the consoles of every contact of company id that it
// changed (contact.updated), after the commit.
func (s *Server) publishCompany(ctx context.Context, id uint64) {
	ids, err := s.db.CompanyContactIDs(ctx, id)
	if err != nil {
		s.log.Warn().Err(err).Uint64("company", id).Msg("contact.updated: list the company's contacts")
		return
	}
	for _, cid := range ids {
		if c, err := s.db.Contact(ctx, cid); err == nil {
			s.publishContact(ctx, c)
		}
	}
}

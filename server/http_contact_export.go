package server

import (
	"net/http"
	"time"

	"github.com/parley-chat/parley"
)

// A contact's data export (GDPR Art. 15 and 20): everything Parley holds
// about one contact, as one machine-readable JSON document, for admins.

// exportThreadJSON is one conversation of the export, with all its
// messages.
type exportThreadJSON struct {
	threadJSON
	Messages []messageJSON `json:"messages"`
}

// contactExportJSON is the export.
type contactExportJSON struct {
	ExportedAt  time.Time              `json:"exportedAt"`
	Contact     contactJSON            `json:"contact"`
	Company     *companyRefJSON        `json:"company"`
	Consents    []parley.ConsentRecord `json:"consents"`
	Threads     []exportThreadJSON     `json:"threads"`
	Records     []recordJSON           `json:"records"`
	Engagements []engagementJSON       `json:"engagements"`
}

// handleContactExport answers GET /api/v1/contacts/{contactId}/export:
// the contact, its company, consents, every conversation of it in any
// inbox (the trash's too) with every message and its files' links,
// tickets, deals and logged engagements, as an attachment.
func (s *Server) handleContactExport() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		id, err := pathID(r, "contactId")
		if err != nil {
			return err
		}
		c, err := s.db.Contact(ctx, id)
		if err != nil {
			return err
		}
		// An admin's export covers every inbox.
		v := &viewer{s: s, u: userFrom(ctx), seen: map[uint64]bool{}, contacts: map[uint64]bool{}}
		out := contactExportJSON{ExportedAt: s.now().UTC(), Contact: toContactJSON(c), Consents: c.Consents,
			Threads: []exportThreadJSON{}, Engagements: []engagementJSON{}}
		if out.Consents == nil {
			out.Consents = []parley.ConsentRecord{}
		}
		cc, err := s.crmContactOf(ctx, c)
		if err != nil {
			return err
		}
		if co := cc.company; co != nil {
			out.Company = &companyRefJSON{ID: idString(co.ID), Name: co.Name, Domain: co.Domain}
		}
		for _, archived := range []bool{false, true} {
			var after uint64
			for {
				ts, more, err := s.db.Threads(ctx, parley.ThreadFilter{ContactID: c.ID, Archived: ptr(archived), AfterID: after, Limit: parley.MaxLimit})
				if err != nil {
					return err
				}
				for _, t := range ts {
					after = t.ID
					v.seen[t.ID] = true
					et := exportThreadJSON{threadJSON: s.toThreadJSON(ctx, t), Messages: []messageJSON{}}
					names := map[string]string{}
					var seq uint64
					for {
						ms, more, err := s.db.Messages(ctx, t.ID, seq, parley.MaxLimit)
						if err != nil {
							return err
						}
						for _, m := range ms {
							seq = m.Seq
							et.Messages = append(et.Messages, s.toMessageJSON(ctx, t, m, names))
						}
						if !more || len(ms) == 0 {
							break
						}
					}
					out.Threads = append(out.Threads, et)
				}
				if !more || len(ts) == 0 {
					break
				}
			}
		}
		rs, err := s.db.ContactRecords(ctx, c.ID)
		if err != nil {
			return err
		}
		out.Records = v.records(ctx, rs)
		var before uint64
		for {
			es, more, err := s.db.ContactEngagements(ctx, c.ID, before, parley.MaxLimit)
			if err != nil {
				return err
			}
			for _, e := range es {
				before = e.ID
				out.Engagements = append(out.Engagements, v.engagement(ctx, e))
			}
			if !more || len(es) == 0 {
				break
			}
		}
		w.Header().Set("Content-Disposition", `attachment; filename="contact-`+idString(c.ID)+`.json"`)
		s.writeJSON(w, http.StatusOK, out)
		s.log.Info().Uint64("contactId", c.ID).Str("by", userFrom(ctx).ActorID()).Int("threads", len(out.Threads)).Msg("contact data exported")
		return nil
	})
}

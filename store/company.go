package store

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// Buckets of companies (schema version 8).
const (
	bucketCompanies       = "companies"        // id → Company
	bucketCompanyDomains  = "company_domains"  // domain ‖ 0x00 ‖ company → empty
	bucketCompanyContacts = "company_contacts" // (company, contact) → empty
)

// migrateCompanies creates the buckets of companies and gives every
// contact with a company address its company, as a contact written now
// gets one (indexContactCompany).
func migrateCompanies(tx *bolt.Tx) error {
	for _, name := range []string{bucketCompanies, bucketCompanyDomains, bucketCompanyContacts} {
		if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	tb := contactTable()
	var todo []*parley.Contact
	err := bucket(tx, bucketContacts).ForEach(func(k, data []byte) error {
		c := new(parley.Contact)
		if err := tb.decode(btoi(k), data, c); err != nil {
			return err
		}
		if c.CompanyID == 0 && parley.CompanyDomain(c.ReplyEmail()) != "" {
			todo = append(todo, c)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, c := range todo {
		if err := indexContactCompany(tx, c, nil, c.UpdatedAt); err != nil {
			return err
		}
		data, err := tb.encode(c)
		if err != nil {
			return err
		}
		if err := bucket(tx, bucketContacts).Put(itob(c.ID), data); err != nil {
			return err
		}
	}
	return nil
}

// domainKey is the key of company id under domain in company_domains; with
// id 0 it is the prefix of every company of the domain.
func domainKey(domain string, id uint64) []byte {
	k := append([]byte(emailKey(domain)), 0)
	if id == 0 {
		return k
	}
	return append(k, itob(id)...)
}

func companyTable() table[parley.Company] {
	return table[parley.Company]{
		name:   "company",
		bucket: bucketCompanies,
		id:     func(c *parley.Company) *uint64 { return &c.ID },
		prepare: func(c, old *parley.Company, now time.Time) {
			if old != nil {
				c.CreatedBy, c.CreatedAt = old.CreatedBy, old.CreatedAt
			}
			stampTimes(&c.CreatedAt, &c.UpdatedAt, old == nil, now)
		},
		index: func(tx *bolt.Tx, c, old *parley.Company) error {
			if err := c.Validate(); err != nil {
				return err
			}
			b := bucket(tx, bucketCompanyDomains)
			if old != nil && old.Domain != "" && old.Domain != c.Domain {
				if err := b.Delete(domainKey(old.Domain, c.ID)); err != nil {
					return err
				}
			}
			if c.Domain == "" {
				return nil
			}
			return b.Put(domainKey(c.Domain, c.ID), nil)
		},
	}
}

// CreateCompany stores c after Validate and sets its ID and times.
func (db *DB) CreateCompany(ctx context.Context, c *parley.Company) error {
	return createRecord(ctx, db, companyTable(), c)
}

// Company returns company id, or ENOTFOUND.
func (db *DB) Company(ctx context.Context, id uint64) (*parley.Company, error) {
	return readRecord(db, companyTable(), id)
}

// UpdateCompany changes company id with fn in one transaction; the result
// must pass Validate. fn may not change the ID, the creator or the
// creation time. It runs on the store's writer goroutine and must not call
// db.
func (db *DB) UpdateCompany(ctx context.Context, id uint64, fn func(*parley.Company) error) (*parley.Company, error) {
	return updateRecord(ctx, db, companyTable(), id, fn)
}

// Companies returns a page of companies in id order after id after.
func (db *DB) Companies(ctx context.Context, after uint64, limit int) ([]*parley.Company, bool, error) {
	return pageRecords(db, companyTable(), after, limit)
}

// Contacts returns a page of contacts in id order after id after.
func (db *DB) Contacts(ctx context.Context, after uint64, limit int) ([]*parley.Contact, bool, error) {
	return pageRecords(db, contactTable(), after, limit)
}

// pageRecords returns up to limit records (at least 1, at most
// parley.MaxLimit) with ids above after, in id order, and whether more
// follow.
func pageRecords[T any](db *DB, tb table[T], after uint64, limit int) ([]*T, bool, error) {
	limit = min(max(limit, 1), parley.MaxLimit)
	var out []*T
	more := false
	err := db.view(func(tx *bolt.Tx) error {
		c := bucket(tx, tb.bucket).Cursor()
		for k, data := c.Seek(itob(after + 1)); k != nil; k, data = c.Next() {
			if len(out) == limit {
				more = true
				return nil
			}
			v := new(T)
			if err := tb.decode(btoi(k), data, v); err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return out, more, nil
}

// CompaniesByDomain returns the companies with this domain, oldest first.
func (db *DB) CompaniesByDomain(ctx context.Context, domain string) ([]*parley.Company, error) {
	out := []*parley.Company{}
	if domain == "" {
		return out, nil
	}
	err := db.view(func(tx *bolt.Tx) error {
		prefix := domainKey(domain, 0)
		c := bucket(tx, bucketCompanyDomains).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			co, err := companyTable().get(tx, btoi(k[len(prefix):]))
			if err != nil {
				return err
			}
			out = append(out, co)
		}
		return nil
	})
	return out, err
}

// CompanyContactIDs returns the ids of the company's contacts, ascending.
func (db *DB) CompanyContactIDs(ctx context.Context, companyID uint64) ([]uint64, error) {
	out := []uint64{}
	err := db.view(func(tx *bolt.Tx) error {
		prefix := itob(companyID)
		c := bucket(tx, bucketCompanyContacts).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			out = append(out, btoi(k[8:]))
		}
		return nil
	})
	return out, err
}

// indexContactCompany keeps a contact's company when the contact is
// written: a contact without a company whose address (Email, else
// UnverifiedEmail) now has another company domain than before joins the
// oldest company of that domain, or a new company made for it; a company
// set by the writer must exist; company_contacts follows.
func indexContactCompany(tx *bolt.Tx, c, old *parley.Contact, now time.Time) error {
	if bucket(tx, bucketCompanies) == nil {
		return nil // a migration of a file older than companies: migrateCompanies does it
	}
	var oldCompany uint64
	var oldDomain string
	if old != nil {
		oldCompany, oldDomain = old.CompanyID, parley.CompanyDomain(old.ReplyEmail())
	}
	if d := parley.CompanyDomain(c.ReplyEmail()); c.CompanyID == 0 && d != "" && d != oldDomain {
		id, err := companyForDomain(tx, d, now)
		if err != nil {
			return err
		}
		c.CompanyID = id
	}
	if c.CompanyID == oldCompany {
		return nil
	}
	if c.CompanyID != 0 && bucket(tx, bucketCompanies).Get(itob(c.CompanyID)) == nil {
		return parley.Errorf(parley.EINVALID, "company %d does not exist", c.CompanyID)
	}
	b := bucket(tx, bucketCompanyContacts)
	if oldCompany != 0 {
		if err := b.Delete(key2(oldCompany, c.ID)); err != nil {
			return err
		}
	}
	if c.CompanyID != 0 {
		return b.Put(key2(c.CompanyID, c.ID), nil)
	}
	return nil
}

// companyForDomain returns the oldest company with domain, creating one
// named after the domain if there is none.
func companyForDomain(tx *bolt.Tx, domain string, now time.Time) (uint64, error) {
	prefix := domainKey(domain, 0)
	if k, _ := bucket(tx, bucketCompanyDomains).Cursor().Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) {
		return btoi(k[len(prefix):]), nil
	}
	co := &parley.Company{Name: domain, Domain: domain}
	if err := companyTable().insert(tx, co, now); err != nil {
		return 0, err
	}
	return co.ID, nil
}

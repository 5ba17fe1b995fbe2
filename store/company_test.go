package store

import (
	"context"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parley-chat/parley"
)

// TestCompanyAutomatic: a contact that gets an address of a company domain
// joins the oldest company of that domain, or a new one; free mail makes
// none; a company the contact has stays; what is written is indexed.
func TestCompanyAutomatic(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t, nil)

	ada := &parley.Contact{Email: "ada@Example.COM"}
	if err := db.CreateContact(ctx, ada); err != nil {
		t.Fatal(err)
	}
	if ada.CompanyID == 0 {
		t.Fatal("a contact with a company address got no company")
	}
	co, err := db.Company(ctx, ada.CompanyID)
	if err != nil {
		t.Fatal(err)
	}
	if co.Domain != "example.com" || co.Name != "example.com" || co.CreatedBy != 0 {
		t.Errorf("company = %+v, want example.com named after its domain, made by Parley", co)
	}

	// A second company of the domain, made later: the oldest stays the one.
	later := &parley.Company{Name: "Example again", Domain: "example.com", CreatedBy: 1}
	if err := db.CreateCompany(ctx, later); err != nil {
		t.Fatal(err)
	}
	bob := &parley.Contact{}
	if err := db.CreateContact(ctx, bob); err != nil {
		t.Fatal(err)
	}
	if bob.CompanyID != 0 {
		t.Errorf("a contact without address got company %d", bob.CompanyID)
	}
	bob, err = db.UpdateContact(ctx, bob.ID, func(c *parley.Contact) error { c.UnverifiedEmail = "bob@example.com"; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if bob.CompanyID != co.ID {
		t.Errorf("bob's company = %d, want the oldest of the domain, %d", bob.CompanyID, co.ID)
	}

	for _, email := range []string{"eve@gmail.com", "eve@yahoo.co.uk", "eve@gmx.de", "eve@web.de", "eve@t-online.de", "eve@proton.me", "eve@icloud.com"} {
		c := &parley.Contact{Email: email}
		if err := db.CreateContact(ctx, c); err != nil {
			t.Fatal(err)
		}
		if c.CompanyID != 0 {
			t.Errorf("%s: free mail got company %d", email, c.CompanyID)
		}
	}

	// A company set by hand stays when the address changes.
	bob, err = db.UpdateContact(ctx, bob.ID, func(c *parley.Contact) error { c.CompanyID = later.ID; return nil })
	if err != nil {
		t.Fatal(err)
	}
	bob, err = db.UpdateContact(ctx, bob.ID, func(c *parley.Contact) error { c.Email = "bob@other.org"; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if bob.CompanyID != later.ID {
		t.Errorf("bob's company after a new address = %d, want the one set, %d", bob.CompanyID, later.ID)
	}
	if got, _ := db.CompanyContactIDs(ctx, later.ID); !slices.Equal(got, []uint64{bob.ID}) {
		t.Errorf("contacts of %d = %v, want [%d]", later.ID, got, bob.ID)
	}
	if got, _ := db.CompanyContactIDs(ctx, co.ID); !slices.Equal(got, []uint64{ada.ID}) {
		t.Errorf("contacts of %d = %v, want [%d]", co.ID, got, ada.ID)
	}

	// Removing the company and then changing the address joins the new
	// domain's company.
	if bob, err = db.UpdateContact(ctx, bob.ID, func(c *parley.Contact) error { c.CompanyID = 0; return nil }); err != nil {
		t.Fatal(err)
	}
	if bob.CompanyID != 0 {
		t.Errorf("removed company came back: %d", bob.CompanyID)
	}
	if bob, err = db.UpdateContact(ctx, bob.ID, func(c *parley.Contact) error { c.Email = "bob@acme.io"; return nil }); err != nil {
		t.Fatal(err)
	}
	acme, _ := db.CompaniesByDomain(ctx, "ACME.io")
	if len(acme) != 1 || bob.CompanyID != acme[0].ID {
		t.Errorf("acme.io companies %v, bob's company %d", acme, bob.CompanyID)
	}

	// A company that does not exist is refused, nothing written.
	if _, err := db.UpdateContact(ctx, bob.ID, func(c *parley.Contact) error { c.CompanyID = 9999; return nil }); parley.ErrorCode(err) != parley.EINVALID {
		t.Errorf("unknown company: err = %v, want EINVALID", err)
	}
	if got, _ := db.Contact(ctx, bob.ID); got.CompanyID != acme[0].ID {
		t.Errorf("after a refused write the company is %d", got.CompanyID)
	}
}

// TestCompanyUpdate: the domain index follows a company's domain, invalid
// fields are refused, and pages walk every company once.
func TestCompanyUpdate(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t, nil)
	for _, bad := range []parley.Company{{Name: ""}, {Name: "x", Domain: "http://x.com/"}, {Name: "a\nb"}, {Name: "x", Domain: "Upper.com"}} {
		c := bad
		if err := db.CreateCompany(ctx, &c); parley.ErrorCode(err) != parley.EINVALID {
			t.Errorf("create %+v: err = %v, want EINVALID", bad, err)
		}
	}
	var ids []uint64
	for i := 0; i < 5; i++ {
		c := &parley.Company{Name: "Co", Domain: "co.example"}
		if err := db.CreateCompany(ctx, c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	if _, err := db.UpdateCompany(ctx, ids[0], func(c *parley.Company) error { c.Domain = "new.example"; c.CreatedBy = 7; return nil }); err != nil {
		t.Fatal(err)
	}
	got, _ := db.CompaniesByDomain(ctx, "co.example")
	if len(got) != 4 || got[0].ID != ids[1] {
		t.Errorf("co.example has %d companies, first %v; want 4 from %d", len(got), got, ids[1])
	}
	if got, _ := db.CompaniesByDomain(ctx, "new.example"); len(got) != 1 || got[0].CreatedBy != 0 {
		t.Errorf("new.example = %v, want one, its creator kept", got)
	}
	var walked []uint64
	for after, more := uint64(0), true; more; {
		var page []*parley.Company
		var err error
		if page, more, err = db.Companies(ctx, after, 2); err != nil {
			t.Fatal(err)
		}
		for _, c := range page {
			walked = append(walked, c.ID)
			after = c.ID
		}
	}
	if !slices.Equal(walked, ids) {
		t.Errorf("walked %v, want %v", walked, ids)
	}
}

// TestMigrateCompanies opens a file of the schema before companies: its
// contacts with company addresses get their companies, one per domain,
// and free mail gets none.
func TestMigrateCompanies(t *testing.T) {
	dir := t.TempDir()
	bdb, err := bolt.Open(dir+"/"+fileName, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	steps := migrations()
	i := slices.IndexFunc(steps, func(m migration) bool { return m.name == "create the buckets of companies" })
	if _, err := migrate(bdb, steps[:i]); err != nil {
		t.Fatal(err)
	}
	cs := []*parley.Contact{{Email: "a@corp.example"}, {UnverifiedEmail: "b@corp.example"}, {Email: "c@gmail.com"}}
	err = bdb.Update(func(tx *bolt.Tx) error {
		for _, c := range cs {
			if err := contactTable().insert(tx, c, time.Unix(1e9, 0).UTC()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := bdb.Close(); err != nil {
		t.Fatal(err)
	}
	db := MustOpenDir(t, dir, &Options{NoSync: true})
	ctx := context.Background()
	corp, _ := db.CompaniesByDomain(ctx, "corp.example")
	if len(corp) != 1 {
		t.Fatalf("corp.example has %d companies, want 1", len(corp))
	}
	for i, want := range []uint64{corp[0].ID, corp[0].ID, 0} {
		if c, _ := db.Contact(ctx, cs[i].ID); c.CompanyID != want {
			t.Errorf("contact %s: company %d, want %d", cs[i].ReplyEmail(), c.CompanyID, want)
		}
	}
	if got, _ := db.CompanyContactIDs(ctx, corp[0].ID); !slices.Equal(got, []uint64{cs[0].ID, cs[1].ID}) {
		t.Errorf("company contacts %v", got)
	}
}

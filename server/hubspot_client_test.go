package server_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// nodeModule returns the directory of npm package name in the module
// root's node_modules, failing the test when Node or the package is
// missing (.ci/run installs both).
func nodeModule(t *testing.T, name string) (node, dir string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not installed: %v", err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir = filepath.Join(root, "node_modules", filepath.FromSlash(name))
	if _, err := os.Stat(filepath.Join(dir, "package.json")); err != nil {
		t.Fatalf("%s is not installed (npm ci): %v", name, err)
	}
	return node, dir
}

// TestHubSpotClientCRM runs testdata/hubspot_crm.cjs: HubSpot's official
// Node client, pointed at Parley with basePath and an API token, reads a
// contact and searches contacts, creates, changes, reads and searches a
// company, and associates the two; every typed answer must deserialize.
func TestHubSpotClientCRM(t *testing.T) {
	node, pkg := nodeModule(t, "@hubspot/api-client")
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	_, tok := admin.newToken("hubspot client", nil)
	chat := crmStartChat(t, e, e.widget, "Hello from an integration")
	crmJSON(t, admin.do("PATCH", "/api/v1/contacts/"+chat.contact, map[string]any{"email": "dora@explorer.example", "firstName": "Dora"}, nil), 200)
	auto := crmProps(crmJSON(t, admin.do("GET", crmContacts+"/"+chat.contact+"?properties=associatedcompanyid", nil, nil), 200))["associatedcompanyid"]

	cmd := exec.Command(node, "testdata/hubspot_crm.cjs")
	cmd.Env = append(os.Environ(), "HUBSPOT_CLIENT="+pkg, "PARLEY_URL="+e.base, "PARLEY_TOKEN="+tok.Token,
		"CONTACT_ID="+chat.contact, "CONTACT_EMAIL=dora@explorer.example")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var got struct {
		Contact struct {
			ID, Email, Company string
			CompanyIDs         []string
		}
		ContactSearch struct {
			Total int
			IDs   []string
		}
		Company       struct{ ID, Name, Domain string }
		CompanySearch struct {
			Total int
			IDs   []string
		}
		CreateDefault struct {
			Status, From, To string
			TypeID           int
		}
		Associations []struct {
			To      string
			TypeIDs []int
		}
		AfterArchive []string
		NotFound     int
	}
	if err := json.Unmarshal(stdout, &got); err != nil {
		t.Fatalf("decode %s: %v", stdout, err)
	}
	if got.Contact.ID != chat.contact || got.Contact.Email != "dora@explorer.example" || got.Contact.Company != "explorer.example" ||
		!slices.Equal(got.Contact.CompanyIDs, []string{fmt.Sprint(auto)}) {
		t.Errorf("contact %+v, want %s of company %v", got.Contact, chat.contact, auto)
	}
	if got.ContactSearch.Total != 1 || !slices.Equal(got.ContactSearch.IDs, []string{chat.contact}) {
		t.Errorf("contact search %+v", got.ContactSearch)
	}
	if got.Company.Name != "Contract Co GmbH" || got.Company.Domain != "contract.example" {
		t.Errorf("company %+v", got.Company)
	}
	if got.CompanySearch.Total != 1 || !slices.Equal(got.CompanySearch.IDs, []string{got.Company.ID}) {
		t.Errorf("company search %+v, want %s", got.CompanySearch, got.Company.ID)
	}
	if got.CreateDefault.Status != "COMPLETE" || got.CreateDefault.From != chat.contact || got.CreateDefault.To != got.Company.ID || got.CreateDefault.TypeID != 279 {
		t.Errorf("createDefault %+v", got.CreateDefault)
	}
	if len(got.Associations) != 1 || got.Associations[0].To != got.Company.ID || !slices.Equal(got.Associations[0].TypeIDs, []int{1, 279}) {
		t.Errorf("associations %+v, want %s with types 1 and 279", got.Associations, got.Company.ID)
	}
	if len(got.AfterArchive) != 0 || got.NotFound != 404 {
		t.Errorf("after archive %v, unknown contact %d", got.AfterArchive, got.NotFound)
	}
}

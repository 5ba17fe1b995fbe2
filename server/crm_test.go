package server_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

const (
	crmContacts  = "/crm/v3/objects/contacts"
	crmCompanies = "/crm/v3/objects/companies"
)

// crmTypeEmail has chat's visitor type an email into the widget.
func crmTypeEmail(t *testing.T, chat crmChat, email string) {
	t.Helper()
	chat.v.send(map[string]any{"type": "contact.email", "clientId": "e-" + email, "email": email})
	chat.v.next("contact.email")
}

// crmProps returns the properties of a CRM object in an answer.
func crmProps(m map[string]any) map[string]any {
	p, _ := m["properties"].(map[string]any)
	return p
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// crmIDs returns the ids of the results of a list or search answer.
func crmIDs(m map[string]any) []string {
	var out []string
	for _, r := range listOf(m, "results") {
		out = append(out, fmt.Sprint(r.(map[string]any)["id"]))
	}
	return out
}

// TestCRMContactGet reads a chat's contact in HubSpot's CRM v3 shape, as
// an integration following the thread's associatedContactId does, with the
// properties, associations and archived parameters HubSpot has.
func TestCRMContactGet(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	chat := crmStartChat(t, e, e.widget, "Hello")
	crmTypeEmail(t, chat, "ada@Acme.example")

	th := crmJSON(t, admin.do("GET", v3+"/threads/"+chat.thread, nil, nil), 200)
	path := crmContacts + "/" + fmt.Sprint(th["associatedContactId"])

	got := crmJSON(t, admin.do("GET", path, nil, nil), 200)
	if got["id"] != chat.contact || got["archived"] != false {
		t.Errorf("id=%v archived=%v, want %s and false", got["id"], got["archived"], chat.contact)
	}
	for _, k := range []string{"createdAt", "updatedAt"} {
		if _, err := time.Parse(time.RFC3339Nano, fmt.Sprint(got[k])); err != nil {
			t.Errorf("%s=%v is no time", k, got[k])
		}
	}
	if keys := keysOf(crmProps(got)); !slices.Equal(keys, []string{"createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"}) {
		t.Errorf("default properties %v", keys)
	}
	if p := crmProps(got); p["hs_object_id"] != chat.contact || p["email"] != nil || p["firstname"] != nil {
		t.Errorf("properties %v: want hs_object_id %s and null email (a typed address is unverified)", p, chat.contact)
	}

	// properties comma separated and repeated; an unknown one is left out.
	got = crmJSON(t, admin.do("GET", path+"?properties=email,company&properties=unverified_email,nosuchproperty,associatedcompanyid&associations=companies", nil, nil), 200)
	p := crmProps(got)
	if keys := keysOf(p); !slices.Equal(keys, []string{"associatedcompanyid", "company", "email", "unverified_email"}) {
		t.Errorf("properties %v", keys)
	}
	if p["company"] != "acme.example" || p["unverified_email"] != "ada@Acme.example" {
		t.Errorf("company=%v unverified_email=%v", p["company"], p["unverified_email"])
	}
	companyID := fmt.Sprint(p["associatedcompanyid"])
	assoc := got["associations"].(map[string]any)["companies"].(map[string]any)
	if r := listOf(assoc, "results"); len(r) != 1 || r[0].(map[string]any)["id"] != companyID || r[0].(map[string]any)["type"] != "contact_to_company" {
		t.Errorf("associations %v, want company %s", assoc, companyID)
	}
	co := crmJSON(t, admin.do("GET", crmCompanies+"/"+companyID, nil, nil), 200)
	if cp := crmProps(co); cp["domain"] != "acme.example" || cp["name"] != "acme.example" {
		t.Errorf("company %v", cp)
	}

	// By verified email, with HubSpot's idProperty.
	crmJSON(t, admin.do("PATCH", "/api/v1/contacts/"+chat.contact, map[string]any{"email": "ada@acme.example", "firstName": "Ada"}, nil), 200)
	got = crmJSON(t, admin.do("GET", crmContacts+"/ADA@acme.example?idProperty=email&properties=firstname", nil, nil), 200)
	if got["id"] != chat.contact || crmProps(got)["firstname"] != "Ada" {
		t.Errorf("by email: %v", got)
	}

	for _, tc := range []struct {
		name, query string
		status      int
		want        string
	}{
		{"unknown parameter", "?propertiesWithHistory=email", 400, `"propertiesWithHistory"`},
		{"unknown association", "?associations=deals", 400, "associations"},
		{"archived not a bool", "?archived=maybe", 400, "archived"},
		{"archived", "?archived=true", 404, "archived"},
		{"bad idProperty", "?idProperty=phone", 400, "idProperty"},
	} {
		t.Run(tc.name, func(t *testing.T) { crmError(t, admin.do("GET", path+tc.query, nil, nil), tc.status, tc.want) })
	}
	for _, id := range []string{"999", "abc", "0"} {
		crmError(t, admin.do("GET", crmContacts+"/"+id, nil, nil), 404, "not found")
	}
	crmError(t, admin.do("GET", "/crm/v3/objects/deals/1", nil, nil), 404, "no such endpoint")
}

// TestCRMAutomaticCompany: an address of a company's domain joins that
// company, made if none has the domain; free mail makes none.
func TestCRMAutomaticCompany(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	a := crmStartChat(t, e, e.widget, "one")
	b := crmStartChat(t, e, e.widget, "two")
	free := crmStartChat(t, e, e.widget, "three")
	crmTypeEmail(t, a, "a@initech.example")
	crmJSON(t, admin.do("PATCH", "/api/v1/contacts/"+b.contact, map[string]any{"email": "b@INITECH.example"}, nil), 200)
	crmTypeEmail(t, free, "someone@gmail.com")

	search := crmJSON(t, admin.do("POST", crmCompanies+"/search", map[string]any{
		"filterGroups": []any{map[string]any{"filters": []any{map[string]any{"propertyName": "domain", "operator": "EQ", "value": "initech.example"}}}},
	}, nil), 200)
	if search["total"] != 1.0 {
		t.Fatalf("companies of initech.example: %v", search)
	}
	id := crmIDs(search)[0]
	got := crmJSON(t, admin.do("GET", crmCompanies+"/"+id+"?associations=contacts", nil, nil), 200)
	var members []string
	for _, r := range listOf(got["associations"].(map[string]any)["contacts"].(map[string]any), "results") {
		members = append(members, r.(map[string]any)["id"].(string))
	}
	if !slices.Equal(members, []string{a.contact, b.contact}) {
		t.Errorf("company contacts %v, want %s and %s", members, a.contact, b.contact)
	}
	d := crmJSON(t, admin.do("GET", "/api/v1/contacts/"+free.contact, nil, nil), 200)
	if d["company"] != nil {
		t.Errorf("free mail contact has company %v", d["company"])
	}
	d = crmJSON(t, admin.do("GET", "/api/v1/contacts/"+a.contact, nil, nil), 200)
	if c, _ := d["company"].(map[string]any); c["id"] != id || c["domain"] != "initech.example" || c["name"] != "initech.example" {
		t.Errorf("contact details company %v", d["company"])
	}
	list := crmJSON(t, admin.do("GET", crmCompanies, nil, nil), 200)
	if ids := crmIDs(list); !slices.Equal(ids, []string{id}) {
		t.Errorf("companies %v, want only %s", ids, id)
	}
}

// TestCRMAccess attacks contacts and companies as an agent of another
// inbox, a stranger without credentials and a read-only token.
func TestCRMAccess(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	sales := e.addAgent("sales@example.com", false)
	_, salesWidget := crmInbox(t, e, "Sales", sales)
	agent := e.login("sales@example.com")

	ada := crmStartChat(t, e, e.widget, "support question") // the Support inbox only
	crmJSON(t, admin.do("PATCH", "/api/v1/contacts/"+ada.contact, map[string]any{"email": "ada@globex.example"}, nil), 200)
	adaC := crmJSON(t, admin.do("GET", crmContacts+"/"+ada.contact+"?properties=associatedcompanyid", nil, nil), 200)
	globex := fmt.Sprint(crmProps(adaC)["associatedcompanyid"])
	hidden := crmJSON(t, admin.do("POST", crmCompanies, map[string]any{"properties": map[string]any{"name": "Admin's secret", "domain": "secret.example"}}, nil), 201)
	hiddenID := hidden["id"].(string)

	emailFilter := func(prop, value string) map[string]any {
		return map[string]any{"filterGroups": []any{map[string]any{"filters": []any{map[string]any{"propertyName": prop, "operator": "EQ", "value": value}}}}}
	}

	t.Run("agent of another inbox", func(t *testing.T) {
		crmError(t, agent.do("GET", crmContacts+"/"+ada.contact, nil, nil), 404, "not found")
		crmError(t, agent.do("GET", crmContacts+"/ada@globex.example?idProperty=email", nil, nil), 404, "not found")
		crmError(t, agent.do("GET", crmCompanies+"/"+globex, nil, nil), 404, "not found")
		crmError(t, agent.do("GET", crmCompanies+"/"+hiddenID, nil, nil), 404, "not found")
		crmError(t, agent.do("PATCH", crmCompanies+"/"+globex, map[string]any{"properties": map[string]any{"name": "pwned"}}, nil), 404, "not found")
		crmError(t, agent.do("GET", "/crm/v4/objects/contacts/"+ada.contact+"/associations/companies", nil, nil), 404, "not found")
		crmError(t, agent.do("GET", "/crm/v4/objects/companies/"+globex+"/associations/contacts", nil, nil), 404, "not found")
		crmError(t, agent.do("DELETE", "/crm/v4/objects/contacts/"+ada.contact+"/associations/companies/"+globex, nil, nil), 404, "not found")
		if m := crmJSON(t, agent.do("GET", crmContacts, nil, nil), 200); len(crmIDs(m)) != 0 {
			t.Errorf("contacts listed to the agent: %v", crmIDs(m))
		}
		if m := crmJSON(t, agent.do("GET", crmCompanies, nil, nil), 200); len(crmIDs(m)) != 0 {
			t.Errorf("companies listed to the agent: %v", crmIDs(m))
		}
		for _, q := range []struct{ path, prop, value string }{
			{crmContacts, "email", "ada@globex.example"},
			{crmContacts, "company", "globex.example"},
			{crmCompanies, "domain", "globex.example"},
			{crmCompanies, "name", "Admin's secret"},
		} {
			if m := crmJSON(t, agent.do("POST", q.path+"/search", emailFilter(q.prop, q.value), nil), 200); m["total"] != 0.0 || len(crmIDs(m)) != 0 {
				t.Errorf("search %s %s=%s found %v", q.path, q.prop, q.value, m)
			}
		}
		// The agent's own contact, of the same domain, shows the company
		// with only the contacts the agent may see.
		bob := crmStartChat(t, e, salesWidget, "sales question")
		crmTypeEmail(t, bob, "bob@globex.example")
		got := crmJSON(t, agent.do("GET", crmCompanies+"/"+globex+"?associations=contacts", nil, nil), 200)
		var ids []string
		for _, r := range listOf(got["associations"].(map[string]any)["contacts"].(map[string]any), "results") {
			ids = append(ids, r.(map[string]any)["id"].(string))
		}
		if !slices.Equal(ids, []string{bob.contact}) {
			t.Errorf("the agent sees the company's contacts %v, want only %s", ids, bob.contact)
		}
		v4 := crmJSON(t, agent.do("GET", "/crm/v4/objects/companies/"+globex+"/associations/contacts", nil, nil), 200)
		if r := listOf(v4, "results"); len(r) != 1 || r[0].(map[string]any)["toObjectId"] != bob.contact {
			t.Errorf("v4 associations %v, want only %s", v4, bob.contact)
		}
		// Moving the agent's own contact into a company the agent cannot
		// see, or another's contact into a company they can, is refused.
		crmError(t, agent.do("PUT", "/crm/v4/objects/contacts/"+bob.contact+"/associations/default/companies/"+hiddenID, nil, nil), 404, "not found")
		crmError(t, agent.do("PUT", "/crm/v4/objects/companies/"+globex+"/associations/default/contacts/"+ada.contact, nil, nil), 404, "not found")
		if m := crmJSON(t, agent.do("POST", crmContacts+"/search", emailFilter("associatedcompanyid", globex), nil), 200); !slices.Equal(crmIDs(m), []string{bob.contact}) {
			t.Errorf("search by company: %v, want only %s", crmIDs(m), bob.contact)
		}
	})

	t.Run("stranger", func(t *testing.T) {
		anon := &client{e: e, hc: &http.Client{Timeout: 10 * time.Second}}
		for _, r := range []struct{ method, path string }{
			{"GET", crmContacts + "/" + ada.contact},
			{"GET", crmContacts},
			{"POST", crmContacts + "/search"},
			{"GET", crmCompanies + "/" + globex},
			{"GET", crmCompanies},
			{"POST", crmCompanies},
			{"PATCH", crmCompanies + "/" + globex},
			{"POST", crmCompanies + "/search"},
			{"GET", "/crm/v4/objects/contacts/" + ada.contact + "/associations/companies"},
			{"PUT", "/crm/v4/objects/contacts/" + ada.contact + "/associations/default/companies/" + globex},
			{"DELETE", "/crm/v4/objects/contacts/" + ada.contact + "/associations/companies/" + globex},
		} {
			crmError(t, anon.do(r.method, r.path, map[string]any{}, nil), 401, "")
		}
	})

	t.Run("read-only token", func(t *testing.T) {
		ro, _ := admin.newToken("reader", []string{"read"})
		crmJSON(t, ro.do("GET", crmContacts+"/"+ada.contact, nil, nil), 200)
		crmJSON(t, ro.do("POST", crmContacts+"/search", emailFilter("email", "ada@globex.example"), nil), 200)
		crmJSON(t, ro.do("POST", crmCompanies+"/search", map[string]any{}, nil), 200)
		crmError(t, ro.do("POST", crmCompanies, map[string]any{"properties": map[string]any{"name": "x"}}, nil), 403, "write")
		crmError(t, ro.do("PATCH", crmCompanies+"/"+globex, map[string]any{"properties": map[string]any{"name": "x"}}, nil), 403, "write")
		crmError(t, ro.do("PUT", "/crm/v4/objects/contacts/"+ada.contact+"/associations/default/companies/"+hiddenID, nil, nil), 403, "write")
		crmError(t, ro.do("DELETE", "/crm/v4/objects/contacts/"+ada.contact+"/associations/companies/"+globex, nil, nil), 403, "write")
		if c := crmJSON(t, admin.do("GET", crmCompanies+"/"+globex, nil, nil), 200); crmProps(c)["name"] != "globex.example" {
			t.Errorf("company changed by a refused write: %v", crmProps(c))
		}
	})
}

// TestCRMSearch searches contacts with HubSpot's filters, sorts and paging,
// and refuses what it does not support, naming it.
func TestCRMSearch(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	var ids []string
	for i, n := range []string{"Ada", "Grace", "Alan", "Barbara"} {
		c := crmStartChat(t, e, e.widget, "hi "+n)
		crmJSON(t, admin.do("PATCH", "/api/v1/contacts/"+c.contact, map[string]any{"firstName": n, "email": fmt.Sprintf("%s%d@corp.example", strings.ToLower(n), i)}, nil), 200)
		ids = append(ids, c.contact)
	}
	f := func(prop, op string, value any) map[string]any {
		m := map[string]any{"propertyName": prop, "operator": op}
		switch v := value.(type) {
		case []string:
			m["values"] = v
		case nil:
		default:
			m["value"] = v
		}
		return m
	}
	groups := func(gs ...[]map[string]any) []any {
		out := []any{}
		for _, g := range gs {
			out = append(out, map[string]any{"filters": g})
		}
		return out
	}
	search := func(body map[string]any) map[string]any {
		t.Helper()
		return crmJSON(t, admin.do("POST", crmContacts+"/search", body, nil), 200)
	}
	for _, tc := range []struct {
		name string
		body map[string]any
		want []string
	}{
		{"email EQ any case", map[string]any{"filterGroups": groups([]map[string]any{f("email", "EQ", "GRACE1@corp.example")})}, []string{ids[1]}},
		{"two groups OR", map[string]any{"filterGroups": groups([]map[string]any{f("email", "EQ", "ada0@corp.example")}, []map[string]any{f("firstname", "EQ", "alan")})}, []string{ids[0], ids[2]}},
		{"AND in a group", map[string]any{"filterGroups": groups([]map[string]any{f("company", "EQ", "corp.example"), f("firstname", "CONTAINS_TOKEN", "a*")})}, []string{ids[0], ids[2]}},
		{"IN", map[string]any{"filterGroups": groups([]map[string]any{f("hs_object_id", "IN", []string{ids[3], ids[1]})})}, []string{ids[1], ids[3]}},
		{"GT on the id", map[string]any{"filterGroups": groups([]map[string]any{f("hs_object_id", "GT", ids[1])})}, []string{ids[2], ids[3]}},
		{"createdate in the past", map[string]any{"filterGroups": groups([]map[string]any{f("createdate", "LT", fmt.Sprint(time.Now().Add(time.Hour).UnixMilli()))})}, ids},
		{"NOT_HAS_PROPERTY", map[string]any{"filterGroups": groups([]map[string]any{f("lastname", "HAS_PROPERTY", nil)})}, nil},
		{"query", map[string]any{"query": "barb"}, []string{ids[3]}},
		{"sorted descending", map[string]any{"sorts": []any{map[string]any{"propertyName": "firstname", "direction": "DESCENDING"}}}, []string{ids[1], ids[3], ids[2], ids[0]}},
		{"sort as a name", map[string]any{"sorts": []any{"firstname"}}, []string{ids[0], ids[2], ids[3], ids[1]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := search(tc.body)
			if g := crmIDs(got); !slices.Equal(g, tc.want) || got["total"] != float64(len(tc.want)) {
				t.Errorf("ids=%v total=%v, want %v", g, got["total"], tc.want)
			}
		})
	}

	// Paging: two at a time, total the same on every page.
	var walked []string
	body := map[string]any{"limit": 2, "properties": []string{"firstname"}}
	for {
		got := search(body)
		if got["total"] != 4.0 {
			t.Fatalf("total=%v", got["total"])
		}
		walked = append(walked, crmIDs(got)...)
		for _, r := range listOf(got, "results") {
			if keys := keysOf(crmProps(r.(map[string]any))); !slices.Equal(keys, []string{"firstname"}) {
				t.Errorf("properties %v, want firstname only", keys)
			}
		}
		next, ok := got["paging"].(map[string]any)
		if !ok {
			break
		}
		body["after"] = next["next"].(map[string]any)["after"]
	}
	if !slices.Equal(walked, ids) {
		t.Errorf("paged %v, want %v", walked, ids)
	}

	many := make([]any, 6)
	for i := range many {
		many[i] = map[string]any{"filters": []any{f("email", "EQ", "x@y.z")}}
	}
	for _, tc := range []struct {
		name string
		body any
		want string
	}{
		{"unknown field", map[string]any{"filtergroups": []any{}}, `unknown field "filtergroups"`},
		{"unknown filter field", map[string]any{"filterGroups": []any{map[string]any{"filters": []any{map[string]any{"propertyName": "email", "operator": "EQ", "value": "a", "extra": 1}}}}}, `"filterGroups[0].filters[0].extra"`},
		{"unknown operator", map[string]any{"filterGroups": groups([]map[string]any{f("email", "LIKE", "a")})}, "filterGroups[0].filters[0].operator"},
		{"EQ without value", map[string]any{"filterGroups": groups([]map[string]any{f("email", "EQ", nil)})}, "filterGroups[0].filters[0].value is required"},
		{"GT on text", map[string]any{"filterGroups": groups([]map[string]any{f("firstname", "GT", "a")})}, "GT is supported for"},
		{"GT on no number", map[string]any{"filterGroups": groups([]map[string]any{f("createdate", "GT", "yesterday")})}, "is not a number or time"},
		{"too many groups", map[string]any{"filterGroups": many}, "at most 5 groups"},
		{"limit too big", map[string]any{"limit": 201}, "limit must be from 1 to 200"},
		{"bad after", map[string]any{"after": "x"}, "after"},
		{"sort by unknown", map[string]any{"sorts": []any{"shoesize"}}, `"shoesize"`},
		{"bad direction", map[string]any{"sorts": []any{map[string]any{"propertyName": "email", "direction": "UP"}}}, "direction"},
		{"empty group", map[string]any{"filterGroups": []any{map[string]any{"filters": []any{}}}}, "filterGroups[0].filters"},
		{"not json", "{", "malformed JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) { crmError(t, admin.do("POST", crmContacts+"/search", tc.body, nil), 400, tc.want) })
	}

	// Listing pages through the contacts the caller sees.
	var listed []string
	path := crmContacts + "?limit=3"
	for path != "" {
		got := crmJSON(t, admin.do("GET", path, nil, nil), 200)
		listed = append(listed, crmIDs(got)...)
		path = ""
		if next, ok := got["paging"].(map[string]any); ok {
			path = crmContacts + "?limit=3&after=" + next["next"].(map[string]any)["after"].(string)
		}
	}
	if !slices.Equal(listed, ids) {
		t.Errorf("listed %v, want %v", listed, ids)
	}
	crmError(t, admin.do("GET", crmContacts+"?limit=101", nil, nil), 400, "limit")
	crmError(t, admin.do("GET", crmContacts+"?sort=name", nil, nil), 400, `"sort"`)
}

// TestCRMCompanies creates, changes and associates companies, and refuses
// bad input naming the field, with nothing written.
func TestCRMCompanies(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	aws, _ := admin.agentWS()
	chat := crmStartChat(t, e, e.widget, "hello")

	created := crmJSON(t, admin.do("POST", crmCompanies, map[string]any{"properties": map[string]any{"name": " Umbrella <b>Corp</b> ", "domain": "WWW.Umbrella.example"}}, nil), 201)
	id := created["id"].(string)
	if p := crmProps(created); p["name"] != "Umbrella <b>Corp</b>" || p["domain"] != "umbrella.example" || p["hs_object_id"] != id {
		t.Errorf("created %v", p)
	}
	onlyDomain := crmJSON(t, admin.do("POST", crmCompanies, map[string]any{"properties": map[string]any{"domain": "hooli.example"}}, nil), 201)
	if crmProps(onlyDomain)["name"] != "hooli.example" {
		t.Errorf("a company without name is named %v", crmProps(onlyDomain)["name"])
	}
	withContact := crmJSON(t, admin.do("POST", crmCompanies, map[string]any{"properties": map[string]any{"name": "Pied Piper"},
		"associations": []any{map[string]any{"to": map[string]any{"id": chat.contact}, "types": []any{map[string]any{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 280}}}}}, nil), 201)
	nextEvent(aws, "contact.updated", "contactId", chat.contact)
	if d := crmJSON(t, admin.do("GET", "/api/v1/contacts/"+chat.contact, nil, nil), 200); d["company"].(map[string]any)["id"] != withContact["id"] {
		t.Errorf("contact's company %v, want %v", d["company"], withContact["id"])
	}

	before := crmJSON(t, admin.do("GET", crmCompanies+"?limit=100", nil, nil), 200)
	for _, tc := range []struct {
		name   string
		method string
		path   string
		body   any
		status int
		want   string
	}{
		{"unknown property", "POST", crmCompanies, map[string]any{"properties": map[string]any{"name": "x", "industry": "y"}}, 400, `properties.industry`},
		{"unknown field", "POST", crmCompanies, map[string]any{"properties": map[string]any{"name": "x"}, "objectWriteTraceId": "1"}, 400, `"objectWriteTraceId"`},
		{"no name or domain", "POST", crmCompanies, map[string]any{"properties": map[string]any{}}, 400, "properties.name is required"},
		{"bad domain", "POST", crmCompanies, map[string]any{"properties": map[string]any{"name": "x", "domain": "http://x.example/a"}}, 400, "properties.domain"},
		{"newline in name", "POST", crmCompanies, map[string]any{"properties": map[string]any{"name": "a\nb"}}, 400, "properties.name"},
		{"long name", "POST", crmCompanies, map[string]any{"properties": map[string]any{"name": strings.Repeat("x", 257)}}, 400, "properties.name"},
		{"association to nobody", "POST", crmCompanies, map[string]any{"properties": map[string]any{"name": "x"}, "associations": []any{map[string]any{"to": map[string]any{"id": "999"}, "types": []any{map[string]any{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 280}}}}}, 400, "associations[0].to.id"},
		{"association of another type", "POST", crmCompanies, map[string]any{"properties": map[string]any{"name": "x"}, "associations": []any{map[string]any{"to": map[string]any{"id": chat.contact}, "types": []any{map[string]any{"associationCategory": "USER_DEFINED", "associationTypeId": 5}}}}}, 400, "associations[0].types"},
		{"rename to nothing", "PATCH", crmCompanies + "/" + id, map[string]any{"properties": map[string]any{"name": ""}}, 400, "properties.name is required"},
		{"patch nothing", "PATCH", crmCompanies + "/" + id, map[string]any{"properties": map[string]any{}}, 400, "nothing to change"},
		{"patch unknown property", "PATCH", crmCompanies + "/" + id, map[string]any{"properties": map[string]any{"hs_object_id": "5"}}, 400, "properties.hs_object_id"},
		{"patch unknown company", "PATCH", crmCompanies + "/999", map[string]any{"properties": map[string]any{"name": "x"}}, 404, "not found"},
		{"company get unknown param", "GET", crmCompanies + "/" + id + "?idProperty=domain", nil, 400, `"idProperty"`},
		{"associations between contacts", "GET", "/crm/v4/objects/contacts/" + chat.contact + "/associations/contacts", nil, 404, "contacts and companies"},
		{"associations to deals", "GET", "/crm/v4/objects/contacts/" + chat.contact + "/associations/deals", nil, 404, "contacts and companies"},
	} {
		t.Run(tc.name, func(t *testing.T) { crmError(t, admin.do(tc.method, tc.path, tc.body, nil), tc.status, tc.want) })
	}
	if after := crmJSON(t, admin.do("GET", crmCompanies+"?limit=100", nil, nil), 200); !slices.Equal(crmIDs(after), crmIDs(before)) {
		t.Errorf("refused requests changed the companies: %v, before %v", crmIDs(after), crmIDs(before))
	}

	// Rename: the contacts' consoles hear of it.
	renamed := crmJSON(t, admin.do("PATCH", crmCompanies+"/"+fmt.Sprint(withContact["id"]), map[string]any{"properties": map[string]any{"name": "Pied Piper Inc.", "domain": ""}}, nil), 200)
	if p := crmProps(renamed); p["name"] != "Pied Piper Inc." || p["domain"] != nil {
		t.Errorf("renamed %v", p)
	}
	nextEvent(aws, "contact.updated", "contactId", chat.contact)

	// v4: associate with another company, list, remove.
	put := crmJSON(t, admin.do("PUT", "/crm/v4/objects/contacts/"+chat.contact+"/associations/default/companies/"+id, nil, nil), 200)
	if put["status"] != "COMPLETE" || listOf(put, "results")[0].(map[string]any)["to"].(map[string]any)["id"] != id {
		t.Errorf("PUT default association: %v", put)
	}
	got := crmJSON(t, admin.do("GET", "/crm/v4/objects/contacts/"+chat.contact+"/associations/companies", nil, nil), 200)
	r := listOf(got, "results")
	if len(r) != 1 || r[0].(map[string]any)["toObjectId"] != id {
		t.Fatalf("associations %v, want %s", got, id)
	}
	types := r[0].(map[string]any)["associationTypes"].([]any)
	if len(types) != 2 || types[0].(map[string]any)["typeId"] != 1.0 || types[1].(map[string]any)["typeId"] != 279.0 {
		t.Errorf("association types %v, want 1 (primary) and 279", types)
	}
	// Removing an association the contact does not have changes nothing.
	crmJSON(t, admin.do("DELETE", "/crm/v4/objects/contacts/"+chat.contact+"/associations/companies/"+onlyDomain["id"].(string), nil, nil), 204)
	if got := crmJSON(t, admin.do("GET", "/crm/v4/objects/contacts/"+chat.contact+"/associations/companies", nil, nil), 200); len(listOf(got, "results")) != 1 {
		t.Errorf("a foreign DELETE removed the association: %v", got)
	}
	crmJSON(t, admin.do("DELETE", "/crm/v4/objects/companies/"+id+"/associations/contacts/"+chat.contact, nil, nil), 204)
	if got := crmJSON(t, admin.do("GET", "/crm/v4/objects/contacts/"+chat.contact+"/associations/companies", nil, nil), 200); len(listOf(got, "results")) != 0 {
		t.Errorf("after DELETE: %v", got)
	}
	if d := crmJSON(t, admin.do("GET", "/api/v1/contacts/"+chat.contact, nil, nil), 200); d["company"] != nil {
		t.Errorf("contact details company after removal: %v", d["company"])
	}
}

// TestCRMCompanyFromMailAndIdentification: the sender of inbound mail and
// an identified visitor get the company of their address's domain, the
// same one for the same domain; free mail gets none.
func TestCRMCompanyFromMailAndIdentification(t *testing.T) {
	e, admin := mailEnvWith(t, nil)
	ctx := context.Background()
	deliver(t, e, rawMail("Hank <hank@Hooli.example>", "Invoice", "m1@hooli.example", "", "Where is it?"))
	deliver(t, e, rawMail("Free <free@gmx.de>", "Hi", "m2@gmx.de", "", "Hello"))
	hank, err := e.db.ContactByEmail(ctx, "hank@hooli.example")
	if err != nil {
		t.Fatal(err)
	}
	co, err := e.db.Company(ctx, hank.CompanyID)
	if err != nil || co.Domain != "hooli.example" {
		t.Fatalf("the sender's company: %v, %v", co, err)
	}
	if free, err := e.db.ContactByEmail(ctx, "free@gmx.de"); err != nil || free.CompanyID != 0 {
		t.Errorf("free mail sender: %+v, %v; want no company", free, err)
	}

	_, tok := admin.newToken("site", nil)
	site := &client{e: e, hc: &http.Client{Timeout: 5 * time.Second}, token: tok.Token}
	st, token := createIdentToken(t, site, map[string]string{"email": "gavin@hooli.example", "firstName": "Gavin"})
	if st != 200 {
		t.Fatalf("identification token: %d %s", st, token)
	}
	v, ready := e.helloVisitor(map[string]any{"identificationEmail": "gavin@hooli.example", "identificationToken": token})
	if ready["identified"] != true {
		t.Fatalf("ready=%v, want identified", ready)
	}
	v.send(map[string]any{"type": "message.send", "clientId": "g1", "text": "hello"})
	v.next("message.ack")
	gavin, err := e.db.ContactByEmail(ctx, "gavin@hooli.example")
	if err != nil || gavin.CompanyID != co.ID {
		t.Fatalf("identified visitor's company: %+v, %v; want %d", gavin, err, co.ID)
	}
	got := crmJSON(t, admin.do("GET", "/crm/v4/objects/companies/"+fmt.Sprint(co.ID)+"/associations/contacts", nil, nil), 200)
	var ids []string
	for _, r := range listOf(got, "results") {
		ids = append(ids, r.(map[string]any)["toObjectId"].(string))
	}
	if !slices.Equal(ids, []string{fmt.Sprint(hank.ID), fmt.Sprint(gavin.ID)}) {
		t.Errorf("company contacts %v, want %d and %d", ids, hank.ID, gavin.ID)
	}
}

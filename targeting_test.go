package parley_test

import (
	"strings"
	"testing"

	"github.com/parley-chat/parley"
)

func urlRule(op, value string) parley.TargetRule {
	return parley.TargetRule{Kind: "url", Op: op, Value: value}
}

func queryRule(name, value string) parley.TargetRule {
	return parley.TargetRule{Kind: "query", Name: name, Value: value}
}

func TestMatchTargeting(t *testing.T) {
	const page = "https://shop.example/blog/post-1?utm=mail&lang=de#comments"
	tests := []struct {
		name  string
		rules []parley.TargetRule
		url   string
		want  bool
	}{
		{"no rules", nil, page, true},
		{"no rules, garbage url", nil, "%%%", true},
		{"all", []parley.TargetRule{urlRule("all", "")}, page, true},

		{"is exact", []parley.TargetRule{urlRule("is", "https://shop.example/pricing")}, "https://shop.example/pricing", true},
		{"is ignores fragment", []parley.TargetRule{urlRule("is", "https://shop.example/pricing")}, "https://shop.example/pricing#hs-chat-open", true},
		{"is ignores query when value has none", []parley.TargetRule{urlRule("is", "https://shop.example/pricing")}, "https://shop.example/pricing?utm=x", true},
		{"is compares query when value has one", []parley.TargetRule{urlRule("is", "https://shop.example/pricing?plan=pro")}, "https://shop.example/pricing?plan=free", false},
		{"is with query equal", []parley.TargetRule{urlRule("is", "https://shop.example/pricing?plan=pro")}, "https://shop.example/pricing?plan=pro", true},
		{"is trailing slash", []parley.TargetRule{urlRule("is", "https://shop.example/pricing/")}, "https://shop.example/pricing", true},
		{"is root without slash", []parley.TargetRule{urlRule("is", "https://shop.example")}, "https://shop.example/", true},
		{"is case-sensitive", []parley.TargetRule{urlRule("is", "https://shop.example/Pricing")}, "https://shop.example/pricing", false},
		{"is other scheme", []parley.TargetRule{urlRule("is", "https://shop.example/pricing")}, "http://shop.example/pricing", false},
		{"is other path", []parley.TargetRule{urlRule("is", "https://shop.example/pricing")}, "https://shop.example/pricing-old", false},
		{"is wildcard below", []parley.TargetRule{urlRule("is", "https://shop.example/blog/*")}, page, true},
		{"is wildcard itself", []parley.TargetRule{urlRule("is", "https://shop.example/blog/*")}, "https://shop.example/blog", true},
		{"is wildcard with slash", []parley.TargetRule{urlRule("is", "https://shop.example/blog/*")}, "https://shop.example/blog/", true},
		{"is wildcard with query", []parley.TargetRule{urlRule("is", "https://shop.example/blog/*")}, "https://shop.example/blog?page=2", true},
		{"is wildcard sibling", []parley.TargetRule{urlRule("is", "https://shop.example/blog/*")}, "https://shop.example/blogroll", false},
		{"is wildcard case", []parley.TargetRule{urlRule("is", "https://shop.example/Blog/*")}, page, false},

		{"isNot other", []parley.TargetRule{urlRule("isNot", "https://shop.example/pricing")}, page, true},
		{"isNot same", []parley.TargetRule{urlRule("isNot", "https://shop.example/blog/post-1")}, page, false},
		{"isNot wildcard below", []parley.TargetRule{urlRule("isNot", "https://shop.example/blog/*")}, page, false},
		{"isNot wildcard outside", []parley.TargetRule{urlRule("isNot", "https://shop.example/blog/*")}, "https://shop.example/about", true},

		{"contains path", []parley.TargetRule{urlRule("contains", "/blog/")}, page, true},
		{"contains query", []parley.TargetRule{urlRule("contains", "utm=mail")}, page, true},
		{"contains not the fragment", []parley.TargetRule{urlRule("contains", "comments")}, page, false},
		{"contains case-sensitive", []parley.TargetRule{urlRule("contains", "/BLOG/")}, page, false},
		{"contains wildcard", []parley.TargetRule{urlRule("contains", "/blog/*")}, page, true},

		{"notContains absent", []parley.TargetRule{urlRule("notContains", "/shop/")}, page, true},
		{"notContains present", []parley.TargetRule{urlRule("notContains", "post")}, page, false},

		{"startsWith yes", []parley.TargetRule{urlRule("startsWith", "https://shop.example/blog")}, page, true},
		{"startsWith no", []parley.TargetRule{urlRule("startsWith", "https://shop.example/docs")}, page, false},
		{"startsWith host only", []parley.TargetRule{urlRule("startsWith", "shop.example")}, page, false},
		{"startsWith wildcard", []parley.TargetRule{urlRule("startsWith", "https://shop.example/*")}, page, true},

		{"notStartsWith yes", []parley.TargetRule{urlRule("notStartsWith", "https://shop.example/docs")}, page, true},
		{"notStartsWith no", []parley.TargetRule{urlRule("notStartsWith", "https://shop.example/")}, page, false},

		{"query present with value", []parley.TargetRule{queryRule("utm", "mail")}, page, true},
		{"query other value", []parley.TargetRule{queryRule("utm", "ads")}, page, false},
		{"query present at all", []parley.TargetRule{queryRule("lang", "")}, page, true},
		{"query absent", []parley.TargetRule{queryRule("ref", "")}, page, false},
		{"query case-sensitive name", []parley.TargetRule{queryRule("UTM", "mail")}, page, false},
		{"query case-sensitive value", []parley.TargetRule{queryRule("utm", "Mail")}, page, false},
		{"query encoded value", []parley.TargetRule{queryRule("q", "a b&c")}, "https://shop.example/?q=a+b%26c", true},
		{"query repeated", []parley.TargetRule{queryRule("tag", "b")}, "https://shop.example/?tag=a&tag=b", true},
		{"query in fragment ignored", []parley.TargetRule{queryRule("x", "")}, "https://shop.example/#?x=1", false},
		{"query empty name", []parley.TargetRule{queryRule("", "")}, "https://shop.example/?=1", false},

		{"or: second matches", []parley.TargetRule{urlRule("is", "https://shop.example/"), queryRule("utm", "mail")}, page, true},
		{"or: none matches", []parley.TargetRule{urlRule("is", "https://shop.example/"), queryRule("utm", "ads")}, page, false},
		{"unknown op", []parley.TargetRule{urlRule("matches", ".*")}, page, false},
		{"unknown kind", []parley.TargetRule{{Kind: "cookie", Op: "all"}}, page, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parley.MatchTargeting(parley.Targeting{Rules: tt.rules}, tt.url)
			if got != tt.want {
				t.Errorf("MatchTargeting(%+v, %q)=%v, want %v", tt.rules, tt.url, got, tt.want)
			}
		})
	}
}

func TestValidateTargeting(t *testing.T) {
	many := make([]parley.TargetRule, parley.MaxTargetRules+1)
	for i := range many {
		many[i] = urlRule("all", "")
	}
	tests := []struct {
		name    string
		rules   []parley.TargetRule
		wantErr string // substring of the message; "" means valid
	}{
		{"none", nil, ""},
		{"all ops", []parley.TargetRule{
			urlRule("all", ""), urlRule("is", "https://a.example/"), urlRule("isNot", "https://a.example/x/*"),
			urlRule("contains", "x"), urlRule("notContains", "y"), urlRule("startsWith", "https://"),
			urlRule("notStartsWith", "http://"), queryRule("utm", ""), queryRule("utm", "mail"),
		}, ""},
		{"50 rules", many[:parley.MaxTargetRules], ""},
		{"51 rules", many, "at most 50"},
		{"unknown kind", []parley.TargetRule{{Kind: "cookie"}}, `unknown kind "cookie"`},
		{"unknown op", []parley.TargetRule{urlRule("equals", "x")}, `unknown operator "equals"`},
		{"missing op", []parley.TargetRule{urlRule("", "x")}, "unknown operator"},
		{"empty value", []parley.TargetRule{urlRule("contains", " ")}, "needs a value"},
		{"query without name", []parley.TargetRule{queryRule("", "x")}, "parameter name"},
		{"long value", []parley.TargetRule{urlRule("contains", strings.Repeat("a", 2001))}, "longer than 2000"},
		{"value at limit", []parley.TargetRule{urlRule("contains", strings.Repeat("a", 2000))}, ""},
		{"long name", []parley.TargetRule{queryRule(strings.Repeat("a", 2001), "")}, "longer than 2000"},
		{"bad utf-8", []parley.TargetRule{urlRule("contains", "\xff")}, "UTF-8"},
		{"second rule named", []parley.TargetRule{urlRule("all", ""), urlRule("nope", "")}, "rule 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := parley.ValidateTargeting(parley.Targeting{Rules: tt.rules})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("err=%v, want nil", err)
				}
				return
			}
			if got := parley.ErrorCode(err); got != parley.EINVALID {
				t.Fatalf("code=%q (err %v), want %q", got, err, parley.EINVALID)
			}
			if got := parley.ErrorMessage(err); !strings.Contains(got, tt.wantErr) {
				t.Errorf("message=%q, want it to contain %q", got, tt.wantErr)
			}
		})
	}
}

func FuzzMatchTargeting(f *testing.F) {
	seeds := []struct{ kind, op, name, value, url string }{
		{"url", "all", "", "", "https://a.example/"},
		{"url", "is", "", "https://a.example/blog/*", "https://a.example/blog/x?y=1#z"},
		{"url", "isNot", "", "/*", "/"},
		{"url", "contains", "", "*", ""},
		{"url", "startsWith", "", "https://a.example/", "https://a.example/%zz?%%=&&=#"},
		{"url", "notStartsWith", "", "?", "??"},
		{"query", "", "utm", "mail", "https://a.example/?utm=mail&utm=%ff"},
		{"query", "", "a", "", "?a"},
		{"query", "", "", "", "?=&=="},
		{"cookie", "is", "x", "y", "\x00\xff#"},
	}
	for _, s := range seeds {
		f.Add(s.kind, s.op, s.name, s.value, s.url)
	}
	f.Fuzz(func(t *testing.T, kind, op, name, value, pageURL string) {
		r := parley.TargetRule{Kind: kind, Op: op, Name: name, Value: value}
		got := parley.MatchTargeting(parley.Targeting{Rules: []parley.TargetRule{r}}, pageURL)
		if got != parley.MatchTargetRule(r, pageURL) {
			t.Errorf("MatchTargeting and MatchTargetRule disagree on %+v, %q", r, pageURL)
		}
		if kind == "url" {
			// Negated operators are exact complements.
			neg := map[string]string{"is": "isNot", "contains": "notContains", "startsWith": "notStartsWith"}
			if n, ok := neg[op]; ok {
				r2 := r
				r2.Op = n
				if got == parley.MatchTargetRule(r2, pageURL) {
					t.Errorf("%s and %s agree (%v) on value %q, url %q", op, n, got, value, pageURL)
				}
			}
		}
		_ = parley.ValidateTargeting(parley.Targeting{Rules: []parley.TargetRule{r}})
	})
}

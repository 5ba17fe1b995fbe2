package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"

	"github.com/parley-chat/parley"
)

const sessionCookie = "parley_session"

// argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns the argon2id hash of password in PHC string format.
// It takes 19 MiB while it runs: the server runs it in a hashing turn
// (Server.hashPassword).
func HashPassword(password string) (string, error) {
	return hashPasswordWith(argon2.IDKey, password)
}

// argon2Func computes an argon2id key, as argon2.IDKey does.
type argon2Func func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte

// hashPasswordWith is HashPassword with argon2id computed by key.
func hashPasswordWith(key argon2Func, password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	k := key([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(k)), nil
}

// checkPassword reports whether password matches the PHC-encoded hash,
// computing argon2id with key. Like HashPassword it takes 19 MiB; callers
// hold a hashing turn (hashSlot).
func checkPassword(key argon2Func, hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := key([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash makes a sign-in with an unknown email cost as much as one with a
// wrong password, so timing does not tell which emails exist. It is hashed
// on first use, not at every start of every program that imports server.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("parley-dummy-password")
	return h
})

// ValidatePassword enforces the password policy: 10 to 256 bytes.
func ValidatePassword(pw string) error {
	if len(pw) < 10 {
		return parley.Errorf(parley.EINVALID, "password must be at least 10 characters")
	}
	if len(pw) > 256 {
		return parley.Errorf(parley.EINVALID, "password must be at most 256 bytes")
	}
	return nil
}

// newSecret returns a random 256-bit secret, URL-safe, with a prefix, and the
// hex SHA-256 under which it is stored.
func newSecret(prefix string) (secret, hash string) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	secret = prefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, hashSecret(secret)
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// auth is who made a request.
type auth struct {
	user   *parley.User
	hash   string          // session or token hash
	cookie bool            // authenticated by cookie (so CSRF rules apply)
	rights parley.Scopes   // what the credential may do: Session.Rights of the user
	token  *parley.Session // the API token, if the credential is one
}

// can reports whether the request's credential carries scope sc.
func (a *auth) can(sc parley.Scope) bool { return a.rights.Has(sc) }

func authFrom(ctx context.Context) *auth {
	a, _ := ctx.Value(keyAuth).(*auth)
	return a
}

func userFrom(ctx context.Context) *parley.User {
	if a := authFrom(ctx); a != nil {
		return a.user
	}
	return nil
}

// bearerToken returns the token of the request's Authorization header;
// ok is false when there is none, and err EUNAUTHORIZED when it is not
// "Bearer <token>".
func bearerToken(r *http.Request) (tok string, ok bool, err error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false, nil
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false, parley.Errorf(parley.EUNAUTHORIZED, "authorization header must be \"Bearer <token>\"")
	}
	return strings.TrimSpace(tok), true, nil
}

// authenticate resolves the request's bearer token or session cookie to an
// active user. It never fails the request itself: handlers that need a user
// wrap with requireUser.
func (s *Server) authenticate(r *http.Request) (*auth, error) {
	var secret string
	cookie := false
	if tok, ok, err := bearerToken(r); err != nil {
		return nil, err
	} else if ok {
		secret = tok
	} else if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		secret, cookie = c.Value, true
	} else {
		return nil, parley.Errorf(parley.EUNAUTHORIZED, "sign in or send an API token")
	}
	hash := hashSecret(secret)
	sess, err := s.db.Session(r.Context(), hash)
	if parley.ErrorCode(err) == parley.ENOTFOUND || err == nil && sess.Expired(s.now()) {
		return nil, parley.Errorf(parley.EUNAUTHORIZED, "the session or token is not valid; sign in again")
	} else if err != nil {
		return nil, err
	}
	u, err := s.db.User(r.Context(), sess.UserID)
	if parley.ErrorCode(err) == parley.ENOTFOUND || err == nil && u.Deactivated {
		return nil, parley.Errorf(parley.EUNAUTHORIZED, "the session or token is not valid; sign in again")
	} else if err != nil {
		return nil, err
	}
	if now := s.now(); sess.Kind == parley.SessionToken && now.Sub(sess.LastUsedAt) >= parley.TokenUseInterval {
		// Worth a write once an interval, not more; a failure costs only
		// the date, never the request.
		if err := s.db.TouchToken(context.WithoutCancel(r.Context()), hash, now); err != nil {
			s.log.Warn().Err(err).Msg("record when an API token was used")
		}
	}
	a := &auth{user: u, hash: hash, cookie: cookie, rights: sess.Rights(u)}
	if sess.Kind == parley.SessionToken {
		a.token = sess
	}
	return a, nil
}

// access is what a route asks of a request's credential.
type access struct {
	// scope is the scope needed besides admin; zero: ScopeRead for GET and
	// HEAD, ScopeWrite for any other method.
	scope parley.Scope
	// any accepts every valid credential whatever its scopes (signing out).
	any bool
	// admin needs an admin user and the admin scope.
	admin bool
	// bearer refuses console sessions: only an API token will do.
	bearer bool
	// hapikey also takes an API token from the query parameter hapikey,
	// as HubSpot's clients send a developer API key on the webhooks'
	// paths, when there is no Authorization header.
	hapikey bool
}

// guard answers 401 unless the request is authenticated, 403 for a
// cookie-authenticated write from another origin (CSRF), and 403 naming
// what is missing when the credential lacks what acc asks.
func (s *Server) guard(acc access, next http.Handler) http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		if key := r.URL.Query().Get("hapikey"); acc.hapikey && key != "" && r.Header.Get("Authorization") == "" {
			r = r.Clone(r.Context())
			r.Header.Set("Authorization", "Bearer "+key)
		}
		a, err := s.authenticate(r)
		if err != nil {
			return err
		}
		if a.cookie && !s.sameOrigin(r) {
			return errCrossSite()
		}
		if err := acc.check(a, r.Method); err != nil {
			return err
		}
		r = s.auditRequest(r.WithContext(contextWith(r.Context(), keyAuth, a)), a)
		next.ServeHTTP(w, r)
		return nil
	})
}

func (acc access) check(a *auth, method string) error {
	if acc.any {
		return nil
	}
	if acc.bearer && (a.cookie || !a.user.IsAdmin() || !a.can(parley.ScopeAdmin)) {
		return parley.Errorf(parley.EFORBIDDEN,
			"this needs an admin's API token with the admin scope (Authorization: Bearer); console sessions and other tokens may not")
	}
	if acc.admin && !a.user.IsAdmin() {
		return parley.Errorf(parley.EFORBIDDEN, "only admins may do this")
	}
	need := acc.scope
	if need == "" {
		need = parley.ScopeWrite
		if method == http.MethodGet || method == http.MethodHead {
			need = parley.ScopeRead
		}
	}
	if !a.can(need) {
		return parley.Errorf(parley.EFORBIDDEN, "this API token lacks the %s scope", need)
	}
	if acc.admin && !a.can(parley.ScopeAdmin) {
		return parley.Errorf(parley.EFORBIDDEN, "this API token lacks the admin scope")
	}
	return nil
}

// requireUser lets through any signed-in user whose credential may read (GET,
// HEAD) or write (other methods); see guard.
func (s *Server) requireUser(next http.Handler) http.Handler { return s.guard(access{}, next) }

// requireAdmin is requireUser for admins only, with the admin scope.
func (s *Server) requireAdmin(next http.Handler) http.Handler {
	return s.guard(access{admin: true}, next)
}

// requireReader is requireUser for a POST that only reads (a batch read): the
// read scope suffices.
func (s *Server) requireReader(next http.Handler) http.Handler {
	return s.guard(access{scope: parley.ScopeRead}, next)
}

// requireSignedIn lets through any valid credential, whatever its scopes:
// ending one's own credential needs no right.
func (s *Server) requireSignedIn(next http.Handler) http.Handler {
	return s.guard(access{any: true}, next)
}

// requireWebhookAdmin is requireAdmin that also takes the API token from
// the query parameter hapikey (HubSpot's developer API key), for the
// webhooks' paths.
func (s *Server) requireWebhookAdmin(next http.Handler) http.Handler {
	return s.guard(access{admin: true, hapikey: true}, next)
}

// requireAdminToken is requireAdmin for API tokens only: what a site's back
// end does with a server-to-server credential, never a console session.
func (s *Server) requireAdminToken(next http.Handler) http.Handler {
	return s.guard(access{admin: true, bearer: true}, next)
}

// newCrossOrigin returns the cross-site request check of browser writes:
// the standard library's, trusting the base URL's origin as well as the
// request's own host (Parley may sit behind a proxy that changes Host).
func newCrossOrigin(origin string) *http.CrossOriginProtection {
	c := http.NewCrossOriginProtection()
	if origin != "" {
		_ = c.AddTrustedOrigin(origin) // scheme://host from url.Parse: well-formed
	}
	return c
}

// sameOrigin reports whether a request may change things with a session
// cookie or sign in: safe methods always; otherwise Sec-Fetch-Site must say
// same-origin (or none), or, from browsers without it, Origin must name this
// request's host or the base URL's origin. Requests with neither header come
// from non-browser clients, which CSRF cannot drive.
func (s *Server) sameOrigin(r *http.Request) bool {
	return s.crossOrigin.Check(r) == nil
}

// errCrossSite refuses a write that sameOrigin does not let through.
func errCrossSite() error {
	return parley.Errorf(parley.EFORBIDDEN, "cross-site request refused")
}

// decodeSameOrigin decodes r's JSON body into v (decodeJSON) for the
// endpoints that sign in or set a password without a credential: a
// cross-site request is refused first (errCrossSite).
func (s *Server) decodeSameOrigin(w http.ResponseWriter, r *http.Request, v any) error {
	if !s.sameOrigin(r) {
		return errCrossSite()
	}
	return decodeJSON(w, r, v)
}

func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, secret string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    secret,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   strings.HasPrefix(s.origin, "https://") || r.TLS != nil,
		SameSite: http.SameSiteLaxMode,
	})
}

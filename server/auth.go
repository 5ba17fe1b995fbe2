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
	"net/url"
	"strings"

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
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2Key([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// checkPassword reports whether password matches the PHC-encoded hash. Like
// HashPassword it takes 19 MiB; callers hold a hashing turn (hashSlot).
func checkPassword(hash, password string) bool {
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
	got := argon2Key([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash makes a sign-in with an unknown email cost as much as one with a
// wrong password, so timing does not tell which emails exist.
var dummyHash, _ = HashPassword("parley-dummy-password")

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
	hash   string // session or token hash
	cookie bool   // authenticated by cookie (so CSRF rules apply)
}

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

// authenticate resolves the request's bearer token or session cookie to an
// active user. It never fails the request itself: handlers that need a user
// wrap with requireUser.
func (s *Server) authenticate(r *http.Request) (*auth, error) {
	var secret string
	cookie := false
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
			return nil, parley.Errorf(parley.EUNAUTHORIZED, "authorization header must be \"Bearer <token>\"")
		}
		secret = strings.TrimSpace(tok)
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
	return &auth{user: u, hash: hash, cookie: cookie}, nil
}

// requireUser answers 401 unless the request is authenticated, and 403 for
// cookie-authenticated writes from another origin (CSRF).
func (s *Server) requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.authenticate(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if a.cookie && !safeMethod(r.Method) && !s.sameOrigin(r) {
			s.writeError(w, r, parley.Errorf(parley.EFORBIDDEN, "cross-site request refused"))
			return
		}
		next.ServeHTTP(w, r.WithContext(contextWith(r.Context(), keyAuth, a)))
	})
}

// requireAdmin is requireUser for admins only.
func (s *Server) requireAdmin(next http.Handler) http.Handler {
	return s.requireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !userFrom(r.Context()).IsAdmin() {
			s.writeError(w, r, parley.Errorf(parley.EFORBIDDEN, "only admins may do this"))
			return
		}
		next.ServeHTTP(w, r)
	}))
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// sameOrigin reports whether a browser request comes from Parley's own
// origin: the Origin header names the base URL's origin or this request's
// host; without Origin, Sec-Fetch-Site must not say cross-site. Requests with
// neither header come from non-browser clients, which CSRF cannot drive.
func (s *Server) sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" {
		if o == "null" {
			return false
		}
		if s.origin != "" && strings.EqualFold(o, s.origin) {
			return true
		}
		u, err := url.Parse(o)
		return err == nil && strings.EqualFold(u.Host, r.Host)
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return true
	}
	return false
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

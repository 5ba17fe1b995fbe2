package parley

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status, one HubSpot error category and
// one WebSocket close code, in one table: errorKinds in package server
// (server/errors.go).
const (
	ECONFLICT     = "conflict"     // the request conflicts with current state
	EFORBIDDEN    = "forbidden"    // authenticated, but not allowed
	EINTERNAL     = "internal"     // a fault of Parley's, details logged only
	EINVALID      = "invalid"      // malformed or out-of-range input
	ENOTFOUND     = "not_found"    // missing, or not visible to the caller
	ERATELIMIT    = "rate_limited" // too many requests
	ETOOLARGE     = "too_large"    // a body, frame or field over its limit
	EUNAUTHORIZED = "unauthorized" // no or wrong credentials
	EUNAVAILABLE  = "unavailable"  // shutting down or overloaded; retry later
)

// Error is Parley's application error: a code from the list above and a
// message that is safe to show to the caller.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("parley error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-safe message of the first *Error in err's
// chain, and "Internal error." for any other error.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

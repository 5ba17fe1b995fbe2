package parley

import (
	"errors"
	"fmt"
	"syscall"
)

// Error codes. Each maps to one HTTP status, one HubSpot error category and
// one WebSocket close code, in one table: errorKinds in package server
// (server/errors.go).
const (
	ECONFLICT     = "conflict"      // the request conflicts with current state
	EFORBIDDEN    = "forbidden"     // authenticated, but not allowed
	EINTERNAL     = "internal"      // a fault of Parley's, details logged only
	EINVALID      = "invalid"       // malformed or out-of-range input
	ENOTFOUND     = "not_found"     // missing, or not visible to the caller
	ERATELIMIT    = "rate_limited"  // too many requests
	ESTORAGE      = "storage_error" // the disk is full or failing: nothing was stored
	ETOOLARGE     = "too_large"     // a body, frame or field over its limit
	EUNAUTHORIZED = "unauthorized"  // no or wrong credentials
	EUNAVAILABLE  = "unavailable"   // shutting down or overloaded; retry later
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

// StorageError returns err, a failure of the disk under Parley's data (a
// write, sync or grow of a file that did not happen), as an ESTORAGE error
// that wraps it: errors.Is still finds its cause and its text names it, for
// the log. The caller-safe message says "disk full" when err is ENOSPC,
// EDQUOT or EFBIG (or full is true: a size limit of the store's own), and
// "storage I/O error" for anything else, such as EIO. Nothing of the write
// that failed was stored: the caller may retry later. It returns nil for
// nil.
func StorageError(err error, full bool) error {
	if err == nil {
		return nil
	}
	if full || IsDiskFull(err) {
		return fmt.Errorf("%w: %w", Errorf(ESTORAGE, "disk full (no space left on device): nothing was stored, retry later"), err)
	}
	return fmt.Errorf("%w: %w", Errorf(ESTORAGE, "storage I/O error: nothing was stored, retry later"), err)
}

// IsDiskFull reports whether err is a file system's "no room": no space
// left on the device (ENOSPC), a disk quota used up (EDQUOT) or a file
// over its size limit (EFBIG).
func IsDiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EFBIG)
}

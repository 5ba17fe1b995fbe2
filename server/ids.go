package server

import (
	"encoding/json"
	"reflect"
	"strconv"
)

// Ids in request bodies: the API writes ids as strings and reads them as
// strings or numbers.

// idList is a list of ids in JSON: strings of digits, as Parley writes
// them, or plain numbers. Anything else is a type error, which decodeJSON
// reports with the field's name.
type idList []uint64

func (l *idList) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return &json.UnmarshalTypeError{Value: "value", Type: reflect.TypeFor[[1]string]()} // "must be array"
	}
	out := make(idList, 0, len(raw))
	for _, r := range raw {
		var s string
		if json.Unmarshal(r, &s) != nil {
			s = string(r)
		}
		id, err := strconv.ParseUint(s, 10, 64)
		if err != nil || id == 0 {
			return &json.UnmarshalTypeError{Value: "value", Type: reflect.TypeFor[string]()} // "must be string"
		}
		out = append(out, id)
	}
	*l = out
	return nil
}

// flexID is an id in the settings API: written as a string of digits,
// read from a string of digits or a number; "" and null read as 0 (none),
// and 0 is left out when written with omitempty.
type flexID uint64

// MarshalJSON writes the id as a string.
func (id flexID) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.FormatUint(uint64(id), 10) + `"`), nil
}

// UnmarshalJSON reads "12", 12, "" or null.
func (id *flexID) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		*id = 0
		return nil
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
		if s == "" {
			*id = 0
			return nil
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return &json.UnmarshalTypeError{Value: "value", Type: reflect.TypeFor[flexID]()}
	}
	*id = flexID(n)
	return nil
}

// flexIDs returns ids as flexIDs, written as a list of strings; never nil,
// so that a list without ids is written [].
func flexIDs(ids []uint64) []flexID {
	out := make([]flexID, len(ids))
	for i, id := range ids {
		out[i] = flexID(id)
	}
	return out
}

func uint64s(ids []flexID) []uint64 {
	if len(ids) == 0 {
		return nil
	}
	out := make([]uint64, len(ids))
	for i, id := range ids {
		out[i] = uint64(id)
	}
	return out
}

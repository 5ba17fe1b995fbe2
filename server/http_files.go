package server

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"

	"github.com/parley-chat/parley"
)

// Files: uploads for a thread's next message, and serving a file to whoever
// may read it (docs/api.md, "Files").

// maxUploadOverhead is what a multipart upload may hold besides the file:
// boundaries and part headers.
const maxUploadOverhead = 64 << 10

// fileJSON is an uploaded file as the API answers it.
type fileJSON struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Type   string `json:"type"`
	Size   int64  `json:"size"`
	Inline bool   `json:"inline"`
	Width  int    `json:"width,omitempty"`
	Height int    `json:"height,omitempty"`
	URL    string `json:"url"`
}

func (s *Server) toFileJSON(r *http.Request, f *parley.File) (fileJSON, error) {
	link, err := s.app.FileLink(r.Context(), f.Attachment())
	if err != nil {
		return fileJSON{}, err
	}
	return fileJSON{ID: idString(f.ID), Name: f.Name, Type: f.Type, Size: f.Size,
		Inline: f.Inline, Width: f.Width, Height: f.Height, URL: s.baseURL(r) + link}, nil
}

// handleFileUpload stores the request's file as an upload of the signed-in
// user for thread {threadId}, to be sent with their next message there
// (attachments: [{type: "FILE", fileId}]). The body is multipart/form-data
// with one part, "file", or the file's bytes themselves with its name in
// the query parameter name.
func (s *Server) handleFileUpload() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		t, err := s.threadParam(r)
		if err != nil {
			return err
		}
		return s.upload(w, r, userFrom(r.Context()).ActorID(), t.ID)
	})
}

// upload stores the request's file (uploadBody) as an upload of actor
// uploader for thread threadID (0: none) and answers 201 with it.
func (s *Server) upload(w http.ResponseWriter, r *http.Request, uploader string, threadID uint64) error {
	r.Body = http.MaxBytesReader(w, r.Body, parley.MaxFileBytes+maxUploadOverhead)
	name, body, err := uploadBody(r)
	if err != nil {
		return err
	}
	f, err := s.app.Upload(r.Context(), uploader, threadID, name, body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return parley.Errorf(parley.ETOOLARGE, "the file is larger than %d MB, the most Parley takes", parley.MaxFileBytes>>20)
		}
		return err
	}
	j, err := s.toFileJSON(r, f)
	if err != nil {
		return err
	}
	s.writeJSON(w, http.StatusCreated, j)
	return nil
}

// uploadBody returns the name and the bytes of the file a request uploads:
// the one part "file" of a multipart/form-data body (any other part is
// EINVALID, named), or else the whole body, named by the query parameter
// name.
func uploadBody(r *http.Request) (string, io.Reader, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		name := r.URL.Query().Get("name")
		if name == "" {
			return "", nil, parley.Errorf(parley.EINVALID, "name is required: the file's name, as a query parameter (or send multipart/form-data with a part \"file\")")
		}
		return name, r.Body, nil
	}
	if len(r.URL.Query()) > 0 {
		return "", nil, parley.Errorf(parley.EINVALID, "a multipart upload takes no query parameters; the file's name is its part's filename")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return "", nil, parley.Errorf(parley.EINVALID, "malformed multipart body: %v", err)
	}
	p, err := mr.NextPart()
	if err != nil {
		return "", nil, parley.Errorf(parley.EINVALID, "the multipart body holds no part \"file\"")
	}
	if p.FormName() != "file" {
		return "", nil, parley.Errorf(parley.EINVALID, "unknown part %q: an upload holds one part, \"file\"", limitString(p.FormName(), 64))
	}
	if p.FileName() == "" {
		return "", nil, parley.Errorf(parley.EINVALID, "part \"file\" has no filename")
	}
	return p.FileName(), &onePart{part: p, mr: mr}, nil
}

// onePart reads a multipart upload's file part and, at its end, makes sure
// nothing follows it: a second part would be dropped silently.
type onePart struct {
	part *multipart.Part
	mr   *multipart.Reader
}

func (o *onePart) Read(b []byte) (int, error) {
	n, err := o.part.Read(b)
	if err != io.EOF {
		return n, err
	}
	if next, err := o.mr.NextPart(); err == nil {
		return n, parley.Errorf(parley.EINVALID, "unknown part %q: an upload holds one part, \"file\"", limitString(next.FormName(), 64))
	} else if err != io.EOF {
		return n, parley.Errorf(parley.EINVALID, "malformed multipart body: %v", err)
	}
	return n, io.EOF
}

// handleFileGet serves file {fileId} to whoever may read it: the holder of
// a link FileLink signed (query parameters e and s), or a signed-in user of
// the file's inbox (or its uploader). Anyone else gets 404, as for a file
// that does not exist. The path's last element is the file's name, for the
// browser; it does not pick the file.
func (s *Server) handleFileGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "fileId")
		if err != nil {
			return err
		}
		ctx := r.Context()
		var f *parley.File
		q := r.URL.Query()
		if q.Has("e") || q.Has("s") {
			ok, err := s.app.CheckFileLink(ctx, id, q.Get("e"), q.Get("s"))
			if err != nil {
				return err
			}
			if !ok {
				return parley.Errorf(parley.ENOTFOUND, "the link is not valid or has expired")
			}
			if f, err = s.db.File(ctx, id); err != nil {
				return err
			}
		} else {
			a, err := s.authenticate(r)
			if err != nil {
				return err
			}
			if !a.can(parley.ScopeRead) {
				return parley.Errorf(parley.EFORBIDDEN, "this API token lacks the %s scope", parley.ScopeRead)
			}
			if f, err = s.app.FileForUser(ctx, a.user, id); err != nil {
				return err
			}
		}
		b, err := s.app.OpenFile(ctx, f)
		if err != nil {
			return err
		}
		defer b.Close()
		serveFile(w, r, b, servedFile{Name: f.Name, Type: f.Type, Inline: f.Inline, Modified: f.CreatedAt})
		return nil
	})
}

// handleVisitorUpload stores a widget visitor's file as its upload for its
// next message on the widget: the grant g (from upload.grant on the
// visitor socket) says who and where. The body is as handleFileUpload's.
// Answers carry Access-Control-Allow-Origin: * (the widget runs on the
// customer's site; no cookie is involved).
func (s *Server) handleVisitorUpload() http.Handler {
	inner := s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		q := r.URL.Query()
		contactID, widgetID, err := s.app.CheckUploadGrant(ctx, q.Get("g"))
		if err != nil {
			return err
		}
		wd, err := s.db.Widget(ctx, widgetID)
		if err != nil {
			return err
		}
		if !wd.Enabled || !wd.AttachmentsAllowed() {
			return parley.Errorf(parley.EINVALID, "this chat takes no files")
		}
		var threadID uint64
		if t, err := s.db.ChatThread(ctx, contactID, widgetID); err == nil {
			threadID = t.ID
		} else if parley.ErrorCode(err) != parley.ENOTFOUND {
			return err
		}
		q.Del("g")
		r.URL.RawQuery = q.Encode()
		return s.upload(w, r, parley.ContactActorID(contactID), threadID)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		inner.ServeHTTP(w, r)
	})
}

package natsbus

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/lc-voip/lc/internal/event"
	"github.com/nats-io/nats.go/jetstream"
)

// HeaderRoot is the header of every event message published with
// Config.Files: the publisher's Root. The object of a path of the event
// is named <node>/<the path relative to it>.
const HeaderRoot = "Lc-Root"

// fileTimeout bounds one attempt to put or fetch a file.
const fileTimeout = 2 * time.Minute

var bucketName = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

func validBucket(s string) bool { return bucketName.MatchString(s) }

// objectName is the name of the object of path, published by node with
// root as its Root; false when path is not under root.
func objectName(node, root, p string) (string, bool) {
	rel, ok := relative(root, p)
	if !ok {
		return "", false
	}
	return node + "/" + rel, true
}

// relative is p relative to root, with slashes; false when p is not
// under root.
func relative(root, p string) (string, bool) {
	if root == "" || !filepath.IsAbs(p) {
		return "", false
	}
	rel, err := filepath.Rel(root, p)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// ensureBucket returns the object store bucket, creating it (file
// storage, objects kept for ttl, 0 for ever) when missing. A bucket that
// exists is used as it is.
func ensureBucket(ctx context.Context, js jetstream.JetStream, bucket string, ttl time.Duration) (jetstream.ObjectStore, error) {
	obs, err := js.ObjectStore(ctx, bucket)
	if err == nil {
		return obs, nil
	}
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("look up object store %s: %w", bucket, err)
	}
	obs, err = js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      bucket,
		Description: "pcap files of lc",
		Storage:     jetstream.FileStorage,
		TTL:         ttl,
	})
	if errors.Is(err, jetstream.ErrBucketExists) || errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return js.ObjectStore(ctx, bucket) // another lc made it first
	}
	if err != nil {
		return nil, fmt.Errorf("create object store %s: %w", bucket, err)
	}
	return obs, nil
}

// putFile puts the file at p into obs as name, unless obs has that name
// already with the same size and digest (a retry, or a replay). It
// reports whether it put the file.
func putFile(ctx context.Context, obs jetstream.ObjectStore, name, p string) (bool, error) {
	size, digest, err := fileDigest(p)
	if err != nil {
		return false, err
	}
	info, err := obs.GetInfo(ctx, name)
	if err == nil && info.Size == uint64(size) && info.Digest == digest {
		return false, nil
	}
	if err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return false, fmt.Errorf("look up object %q: %w", name, err)
	}
	f, err := os.Open(p)
	if err != nil {
		return false, err
	}
	defer f.Close()
	if _, err := obs.Put(ctx, jetstream.ObjectMeta{Name: name}, f); err != nil {
		return false, fmt.Errorf("put %s as object %q: %w", p, name, err)
	}
	return true, nil
}

// fileDigest returns the size of the file at p and its SHA-256 as the
// object store writes digests.
func fileDigest(p string) (int64, string, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("read %s: %w", p, err)
	}
	return n, jetstream.GetObjectDigestValue(h), nil
}

// localFiles is where a Worker fetches the files of one message: a
// private temporary directory that mirrors the publisher's Root.
type localFiles struct {
	dir  string
	node string
	root string // the publisher's Root
}

// local is the path in l.dir of the publisher's path p; false when p
// is not under the publisher's Root.
func (l localFiles) local(p string) (string, bool) {
	rel, ok := relative(l.root, p)
	if !ok {
		return "", false
	}
	return filepath.Join(l.dir, filepath.FromSlash(rel)), true
}

// filesOf returns the paths of the files evs name, each once.
func filesOf(evs []event.Event) []string {
	var paths []string
	seen := make(map[string]bool)
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			paths = append(paths, p)
		}
	}
	for _, ev := range evs {
		switch e := ev.(type) {
		case event.FileClosed:
			add(e.Path)
		case event.CallCompleted:
			for _, p := range e.Files() {
				add(p)
			}
		}
	}
	return paths
}

// fetchFiles fetches the files evs name from obs into a new temporary
// directory and returns evs with their paths there, and the function
// that removes the directory. An object the store does not have is
// left out, with a warning: the hooks find no file at its path.
func (w *Worker) fetchFiles(ctx context.Context, obs jetstream.ObjectStore, node, root string, evs []event.Event) ([]event.Event, func(), error) {
	dir, err := os.MkdirTemp("", "lc-worker-")
	if err != nil {
		return nil, nil, fmt.Errorf("temporary directory: %w", err)
	}
	remove := func() {
		if err := os.RemoveAll(dir); err != nil {
			w.log.Warn("remove the fetched files", "dir", dir, "error", err)
		}
	}
	l := localFiles{dir: dir, node: node, root: root}
	ctx, cancel := context.WithTimeout(ctx, fileTimeout)
	defer cancel()
	for _, p := range filesOf(evs) {
		name, ok := objectName(node, root, p)
		if !ok {
			continue // not under the publisher's Root: left as it is
		}
		to, _ := l.local(p)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			remove()
			return nil, nil, err
		}
		err := obs.GetFile(ctx, name, to)
		if errors.Is(err, jetstream.ErrObjectNotFound) {
			w.log.Warn("the object store has no such file; the hooks run without it", "file", p, "object", name)
			continue
		}
		if err != nil {
			remove()
			return nil, nil, fmt.Errorf("fetch object %q: %w", name, err)
		}
		w.fetched.Add(1)
	}
	out := make([]event.Event, len(evs))
	for i, ev := range evs {
		out[i] = l.relocate(ev)
	}
	if call, ok := out[len(out)-1].(event.CallCompleted); ok && strings.HasPrefix(call.Dirname, dir) {
		if err := os.MkdirAll(call.Dirname, 0o755); err != nil {
			remove()
			return nil, nil, err
		}
	}
	return out, remove, nil
}

// relocate returns ev with its paths under the publisher's Root moved
// to l.dir.
func (l localFiles) relocate(ev event.Event) event.Event {
	move := func(p string) string {
		if to, ok := l.local(p); ok {
			return to
		}
		return p
	}
	moveAll := func(ps []string) []string {
		if ps == nil {
			return nil
		}
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = move(p)
		}
		return out
	}
	switch e := ev.(type) {
	case event.FileClosed:
		e.Path = move(e.Path)
		return e
	case event.CallCompleted:
		e.Dirname = move(e.Dirname)
		e.SIPFiles, e.RTPFiles = moveAll(e.SIPFiles), moveAll(e.RTPFiles)
		return e
	}
	return ev
}

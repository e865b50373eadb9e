package backup

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// timeLayout is the UTC timestamp in file names.
const timeLayout = "20060102T150405Z"

// Longest sanitised parts of file names, in bytes.
const (
	maxDatabase = 64
	maxLabel    = 100
)

// fileName matches a backup's name: database, label, timestamp, optional
// counter, extension. The database part never contains "-" (see
// sanitizeDatabase), so the name splits unambiguously.
var fileName = regexp.MustCompile(`^([A-Za-z0-9_][A-Za-z0-9_.]*)-(.+)-([0-9]{8}T[0-9]{6}Z)(?:-([0-9]+))?(\.[A-Za-z0-9]+)$`)

func validExt(ext string) bool {
	return len(ext) >= 2 && len(ext) <= 16 && ext[0] == '.' && !strings.ContainsFunc(ext[1:], func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	})
}

// sanitizeDatabase makes a database name usable as the first part of a file
// name: letters, digits, "_" and "." (not first), at most maxDatabase bytes.
func sanitizeDatabase(s string) string {
	s = sanitize(s, maxDatabase, func(r rune) bool { return r == '_' || r == '.' })
	if s == "" {
		return "db"
	}
	if s[0] == '.' {
		s = "_" + s[1:]
	}
	return s
}

// sanitizeLabel makes a label usable in a file name: letters, digits, "_",
// "." and "-", at most maxLabel bytes.
func sanitizeLabel(s string) string {
	s = sanitize(s, maxLabel, func(r rune) bool { return r == '_' || r == '.' || r == '-' })
	if s == "" || strings.Trim(s, ".") == "" {
		return "manual"
	}
	return s
}

func sanitize(s string, max int, extra func(rune) bool) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= max {
			break
		}
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || extra(r)) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

func (f File) name(ext string) string {
	n := f.Database + "-" + f.Label + "-" + f.Time.UTC().Format(timeLayout)
	if f.seq > 0 {
		n += "-" + strconv.Itoa(f.seq)
	}
	return n + ext
}

// parseName splits a backup's file name; ok is false for other files.
func parseName(name string) (f File, ok bool) {
	if strings.HasSuffix(name, ChecksumExt) {
		return File{}, false
	}
	m := fileName.FindStringSubmatch(name)
	if m == nil {
		return File{}, false
	}
	t, err := time.Parse(timeLayout, m[3])
	if err != nil {
		return File{}, false
	}
	f = File{Database: m[1], Label: m[2], Time: t}
	if m[4] != "" {
		if f.seq, err = strconv.Atoi(m[4]); err != nil {
			return File{}, false
		}
	}
	return f, true
}

// newer orders backups newest first.
func newer(a, b File) int {
	if c := b.Time.Compare(a.Time); c != 0 {
		return c
	}
	if a.seq != b.seq {
		return b.seq - a.seq
	}
	return strings.Compare(a.Path, b.Path)
}

// prepareDir creates dir with mode 0700 if missing, and refuses one that is
// not a directory or that users other than its owner can write to.
func prepareDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create directory %s: %w", dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("directory %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("directory %s: not a directory", dir)
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("directory %s is writable by group or others (mode %04o); backups need a private directory: chmod 0700 %s", dir, perm, dir)
	}
	return nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// hashFile returns the hex SHA-256 of the file at path and its size.
func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// writeChecksum writes path's checksum file in sha256sum format, through a
// temporary file renamed into place.
func writeChecksum(path, sum string) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+"-"+ownerTag()+"-*.tmp")
	if err != nil {
		return fmt.Errorf("create checksum file in %s: %w", dir, err)
	}
	_, err = fmt.Fprintf(tmp, "%s  %s\n", sum, filepath.Base(path))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path+ChecksumExt)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write checksum of %s: %w", path, err)
	}
	return nil
}

// readChecksum returns the hex SHA-256 recorded in path's checksum file.
func readChecksum(path string) (string, error) {
	cf := path + ChecksumExt
	f, err := os.Open(cf)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w: %s is missing; refusing to use an unverifiable backup", ErrNoChecksum, cf)
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	line, err := bufio.NewReader(io.LimitReader(f, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read %s: %w", cf, err)
	}
	sum, name, ok := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
	name = strings.TrimPrefix(strings.TrimPrefix(name, " "), "*")
	if b, err := hex.DecodeString(sum); !ok || err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("%w: %s is not a sha256sum line", ErrChecksum, cf)
	}
	if name != filepath.Base(path) {
		return "", fmt.Errorf("%w: %s is the checksum of %q, not of %q", ErrChecksum, cf, name, filepath.Base(path))
	}
	return strings.ToLower(sum), nil
}

// VerifyChecksum checks the file at path against the SHA-256 recorded in
// path+[ChecksumExt]. It returns an error wrapping [ErrNoChecksum] if there
// is no checksum file and [ErrChecksum] if the file does not match.
func VerifyChecksum(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("backup file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("backup file %s: not a regular file", path)
	}
	want, err := readChecksum(path)
	if err != nil {
		return err
	}
	got, _, err := hashFile(path)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%w: %s has SHA-256 %s, its checksum file says %s; the file is damaged or was changed",
			ErrChecksum, path, got, want)
	}
	return nil
}

// List returns the backups in dir, newest first. A file whose checksum
// file is missing is listed with an empty Checksum. A missing directory
// has no backups.
func List(dir string) ([]File, error) {
	files, err := scan(dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	for i := range files {
		if sum, err := readChecksum(files[i].Path); err == nil {
			files[i].Checksum = sum
		}
	}
	return files, nil
}

// scan returns the backups in dir by name, newest first, without their
// checksums.
func scan(dir string) ([]File, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var files []File
	for _, e := range entries {
		f, ok := parseName(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		f.Path = filepath.Join(dir, e.Name())
		if fi, err := e.Info(); err == nil {
			f.Size = fi.Size()
		}
		files = append(files, f)
	}
	slices.SortFunc(files, newer)
	return files, nil
}

// Prune removes the backups of database (as sanitised in file names) in dir
// beyond the newest keep, each with its checksum file, and returns the
// paths removed. keep must be positive.
func Prune(dir, database string, keep int) ([]string, error) {
	if keep <= 0 {
		return nil, fmt.Errorf("prune: keep must be positive, not %d", keep)
	}
	files, err := List(dir)
	if err != nil {
		return nil, err
	}
	database = sanitizeDatabase(database)
	var removed []string
	var errs []error
	n := 0
	for _, f := range files {
		if f.Database != database {
			continue
		}
		if n++; n <= keep {
			continue
		}
		if err := os.Remove(f.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, f.Path)
		if err := os.Remove(f.Path + ChecksumExt); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return removed, errors.Join(errs...)
}

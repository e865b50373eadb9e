package backup

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Backuper writes a consistent backup of one database to a file and
// restores it.
//
// conn is a connection to the database; the migration manager passes the
// connection that holds the migration lock. [SQLite] works through conn
// (the pool may have a single connection). [Postgres] and [MySQL] run the
// database's own tools, which connect with their DSN, and use conn to check
// that it names the same database.
//
// Callers normally go through [Create] and [Restore], which choose the file
// name, write to a temporary file first, verify, checksum, rename and prune.
type Backuper interface {
	// Describe names the database conn is connected to (for file names),
	// the extension of its backup files, and a default directory for them
	// if the database has a natural one.
	Describe(ctx context.Context, conn *sql.Conn) (Info, error)
	// Backup writes a consistent snapshot of the whole database into the
	// file at path, which exists, is empty and has mode 0600. It may
	// overwrite the file but must not replace it with another.
	Backup(ctx context.Context, conn *sql.Conn, path string) error
	// Verify checks, without changing the database, that path holds a
	// complete backup that Restore can read. An error names what is wrong.
	Verify(ctx context.Context, conn *sql.Conn, path string) error
	// Restore replaces the schema and data of the database with those of
	// the backup at path. Where the database has transactional DDL it must
	// do so in one transaction, so that a failure leaves the database as
	// it was. Call Verify first; [Restore] does.
	Restore(ctx context.Context, conn *sql.Conn, path string) error
}

// Info describes a database to back up; see [Backuper.Describe].
type Info struct {
	// Database is the database's name, used as the first part of file
	// names ("app" for app.db).
	Database string
	// Ext is the extension of backup files, with the dot: ".sqlite".
	Ext string
	// Dir is where backups go unless [Options.Dir] says otherwise; empty
	// if the database has no natural place (servers).
	Dir string
}

// Options configures [Create].
type Options struct {
	// Dir is the directory to write to. Empty means the [Info.Dir] of the
	// backuper; it is an error if both are empty. It is created with mode
	// 0700 if missing.
	Dir string
	// Label names the backup, typically the ID of the migration about to
	// run. It is sanitised for file names; empty means "manual".
	Label string
	// Keep, if positive, is how many backups of this database to keep in
	// Dir: once the new backup is complete, older ones beyond the newest
	// Keep are removed with their checksums. Zero keeps all.
	Keep int

	now func() time.Time // for tests
}

// File is one backup on disk.
type File struct {
	// Path is the backup file's path.
	Path string
	// Database and Label are the parts of the file name that
	// [Options.Label] and [Info.Database] gave, as sanitised.
	Database string
	Label    string
	// Time is when the backup was taken, in UTC, to the second.
	Time time.Time
	// Size is the file's size in bytes.
	Size int64
	// Checksum is the hex SHA-256 recorded beside the file, or "" if there
	// is no checksum file (such a backup cannot be restored).
	Checksum string

	seq int // collision counter within one second
}

// ChecksumExt is appended to a backup's file name to name its checksum
// file, which has the format of sha256sum(1): `sha256sum -c` checks it in
// the backup directory.
const ChecksumExt = ".sha256"

// Sentinel errors, matched with errors.Is.
var (
	// ErrChecksum: a backup file does not match its recorded checksum.
	ErrChecksum = errors.New("backup: checksum mismatch")
	// ErrNoChecksum: a backup file has no checksum file beside it.
	ErrNoChecksum = errors.New("backup: no checksum file")
	// ErrInvalid: a file is not a complete backup of the expected kind.
	ErrInvalid = errors.New("backup: invalid backup file")
)

// PruneError is returned by [Create] when the new backup is complete but
// removing old backups failed. File is valid.
type PruneError struct {
	Err error
}

// Error says that removing old backups failed, and why.
func (e *PruneError) Error() string { return "remove old backups: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *PruneError) Unwrap() error { return e.Err }

// Create backs the database conn is connected to up with b into a new file
// in opts.Dir, named after the database, opts.Label and the time in UTC:
//
//	app-0007_drop_legacy-20261121T104233Z.sqlite
//	app-0007_drop_legacy-20261121T104233Z.sqlite.sha256
//
// The directory is created with mode 0700 if missing; an existing one that
// is group- or world-writable is refused. The backup is written to a
// temporary file (mode 0600) in the same directory, synced, checked with
// [Backuper.Verify], checksummed, and only then renamed to its final name,
// so a crash never leaves a partial file under a backup's name. Its
// checksum file is written first, the same way, so a file under a backup's
// name always has one. Then, if opts.Keep is positive, older backups of the
// database beyond the newest Keep are removed; if only that fails, the
// error is a *[PruneError] and the returned File is valid.
func Create(ctx context.Context, b Backuper, conn *sql.Conn, opts Options) (File, error) {
	if b == nil {
		return File{}, errors.New("backup: nil Backuper")
	}
	if conn == nil {
		return File{}, errors.New("backup: nil connection")
	}
	if opts.Keep < 0 {
		return File{}, fmt.Errorf("negative Keep %d", opts.Keep)
	}
	info, err := b.Describe(ctx, conn)
	if err != nil {
		return File{}, err
	}
	if !validExt(info.Ext) {
		return File{}, fmt.Errorf("%T gave invalid extension %q", b, info.Ext)
	}
	dir := opts.Dir
	if dir == "" {
		dir = info.Dir
	}
	if dir == "" {
		return File{}, fmt.Errorf("no directory for backups of database %q: set one (migration.WithBackupDir)", info.Database)
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return File{}, fmt.Errorf("directory %s: %w", dir, err)
	}
	if err := prepareDir(dir); err != nil {
		return File{}, err
	}
	now := time.Now
	if opts.now != nil {
		now = opts.now
	}
	f := File{
		Database: sanitizeDatabase(info.Database),
		Label:    sanitizeLabel(opts.Label),
		Time:     now().UTC().Truncate(time.Second),
	}
	ext := info.Ext

	removeStaleTemps(dir, f.Database, now())
	tmp, err := os.CreateTemp(dir, "."+f.Database+"-"+ownerTag()+"-*.tmp")
	if err != nil {
		return File{}, fmt.Errorf("create temporary file in %s: %w", dir, err)
	}
	tmpPath := tmp.Name()
	done := false
	defer func() {
		if !done {
			removeTemp(tmpPath)
		}
	}()
	if err := tmp.Close(); err != nil {
		return File{}, err
	}

	if err := b.Backup(ctx, conn, tmpPath); err != nil {
		return File{}, fmt.Errorf("back up database %q: %w", info.Database, err)
	}
	if err := syncFile(tmpPath); err != nil {
		return File{}, err
	}
	if err := b.Verify(ctx, conn, tmpPath); err != nil {
		return File{}, fmt.Errorf("verify the new backup of database %q: %w", info.Database, err)
	}
	sum, size, err := hashFile(tmpPath)
	if err != nil {
		return File{}, err
	}
	f.Size, f.Checksum = size, sum

	// Pick a name no other backup has. Backups of the database taken in
	// the same second get a counter that orders them.
	others, err := scan(dir)
	if err != nil {
		return File{}, fmt.Errorf("list %s: %w", dir, err)
	}
	for _, o := range others {
		if o.Database == f.Database && o.Time.Equal(f.Time) && o.seq >= f.seq {
			f.seq = o.seq + 1
		}
	}
	for {
		f.Path = filepath.Join(dir, f.name(ext))
		_, err1 := os.Lstat(f.Path)
		_, err2 := os.Lstat(f.Path + ChecksumExt)
		if errors.Is(err1, fs.ErrNotExist) && errors.Is(err2, fs.ErrNotExist) {
			break
		}
		f.seq++
	}
	if err := writeChecksum(f.Path, sum); err != nil {
		return File{}, err
	}
	if err := os.Rename(tmpPath, f.Path); err != nil {
		os.Remove(f.Path + ChecksumExt)
		return File{}, err
	}
	done = true
	if err := syncDir(dir); err != nil {
		return f, err
	}
	if opts.Keep > 0 {
		if _, err := Prune(dir, f.Database, opts.Keep); err != nil {
			return f, &PruneError{Err: err}
		}
	}
	return f, nil
}

// Restore restores the backup at path with b into the database conn is
// connected to, after checking the file against its checksum (refusing a
// file without one, or that does not match) and with [Backuper.Verify].
// Nothing in the database changes unless all checks pass.
func Restore(ctx context.Context, b Backuper, conn *sql.Conn, path string) error {
	if b == nil {
		return errors.New("backup: nil Backuper")
	}
	if conn == nil {
		return errors.New("backup: nil connection")
	}
	if err := VerifyChecksum(path); err != nil {
		return err
	}
	if err := b.Verify(ctx, conn, path); err != nil {
		return err
	}
	if err := b.Restore(ctx, conn, path); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// ListDatabase lists the backups of the database conn is connected to, in
// dir or, if dir is empty, in the backuper's default directory, newest
// first.
func ListDatabase(ctx context.Context, b Backuper, conn *sql.Conn, dir string) ([]File, error) {
	if b == nil {
		return nil, errors.New("backup: nil Backuper")
	}
	info, err := b.Describe(ctx, conn)
	if err != nil {
		return nil, err
	}
	if dir == "" {
		dir = info.Dir
	}
	if dir == "" {
		return nil, fmt.Errorf("no directory for backups of database %q: set one (migration.WithBackupDir)", info.Database)
	}
	all, err := List(dir)
	if err != nil {
		return nil, err
	}
	name := sanitizeDatabase(info.Database)
	var files []File
	for _, f := range all {
		if f.Database == name {
			files = append(files, f)
		}
	}
	return files, nil
}

// StaleTemp is how long a hidden temporary file that [Create] writes must
// have gone unmodified before a later Create of the same database removes
// it as left behind by a backup that crashed. A backup in progress writes
// to its file all along. A temporary file whose writer, on this host, is
// known to have died is removed at once.
const StaleTemp = time.Hour

// tempSuffixes are the files a backup's temporary file may come with: the
// journal SQLite keeps beside a database it writes (VACUUM INTO).
var tempSuffixes = []string{"", "-journal", "-wal", "-shm"}

// removeTemp removes a temporary file and what came with it.
func removeTemp(path string) {
	for _, s := range tempSuffixes {
		os.Remove(path + s)
	}
}

var (
	hostTagOnce sync.Once
	hostTag     string
)

// ownerTag names the process writing a temporary file: its pid and a hash
// of the host name, so that a later backup can tell one whose writer has
// died from one in progress.
func ownerTag() string {
	hostTagOnce.Do(func() {
		h, _ := os.Hostname()
		sum := sha256.Sum256([]byte(h))
		hostTag = hex.EncodeToString(sum[:4])
	})
	return "p" + strconv.Itoa(os.Getpid()) + "h" + hostTag
}

// tempOwner finds the owner tag in a temporary file's name.
var tempOwner = regexp.MustCompile(`-p([0-9]+)h([0-9a-f]{8})-[0-9]+\.tmp(?:-journal|-wal|-shm)?$`)

// removeStaleTemps removes the hidden temporary files of database's
// backups (the backup being written, its checksum, SQLite's journal of
// it) in dir that were last modified over StaleTemp before now, or whose
// writer on this host has died. It is best effort: a file it cannot
// remove stays, as it would have anyway.
func removeStaleTemps(dir, database string, now time.Time) {
	ownerTag() // sets hostTag
	// database is sanitized: no character in it is special to Glob.
	paths, _ := filepath.Glob(filepath.Join(dir, "."+database+"-*.tmp*"))
	for _, p := range paths {
		name := filepath.Base(p)
		if !slices.ContainsFunc(tempSuffixes, func(s string) bool { return strings.HasSuffix(name, ".tmp"+s) }) {
			continue
		}
		fi, err := os.Lstat(p)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		stale := now.Sub(fi.ModTime()) > StaleTemp
		if m := tempOwner.FindStringSubmatch(name); m != nil && m[2] == hostTag {
			if pid, err := strconv.Atoi(m[1]); err == nil && pid != os.Getpid() && !processAlive(pid) {
				stale = true
			}
		}
		if stale {
			os.Remove(p)
		}
	}
}

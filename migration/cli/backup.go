package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// jsonRestore is what restore prints with --json.
type jsonRestore struct {
	Restored string `json:"restored"`
}

// jsonBackup is what backup prints with --json, and one element of
// backup --list --json.
type jsonBackup struct {
	Path     string    `json:"path"`
	Label    string    `json:"label"`
	Time     time.Time `json:"time"`
	Size     int64     `json:"size"`
	Checksum string    `json:"sha256"`
}

func runBackup(ctx context.Context, e *env) error {
	if e.f.list {
		files, err := e.m.Backups(ctx)
		if err != nil {
			return err
		}
		if e.g.json {
			out := make([]jsonBackup, len(files))
			for i, f := range files {
				out[i] = jsonBackup{Path: f.Path, Label: f.Label, Time: f.Time.UTC(), Size: f.Size, Checksum: f.Checksum}
			}
			return e.writeJSON(out)
		}
		if len(files) == 0 {
			fmt.Fprintln(e.stdout, "no backups")
			return nil
		}
		tw := e.table("FILE", "TAKEN AT", "SIZE", "LABEL")
		for _, f := range files {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Path, formatTime(f.Time), formatSize(f.Size), f.Label)
		}
		return tw.Flush()
	}
	f, err := e.m.Backup(ctx, e.f.label)
	if err != nil {
		return err
	}
	if e.g.json {
		return e.writeJSON(jsonBackup{Path: f.Path, Label: f.Label, Time: f.Time.UTC(), Size: f.Size, Checksum: f.Checksum})
	}
	fmt.Fprintf(e.stdout, "backed up to %s (%s)\n", f.Path, formatSize(f.Size))
	return nil
}

func runRestore(ctx context.Context, e *env) error {
	path := e.args[0]
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("restore: %s does not exist", path)
		}
		return fmt.Errorf("restore: %w", err)
	}
	if !e.g.yes && e.interactive() {
		fmt.Fprintf(e.stderr, "This replaces the whole database with %s: changes made since it was taken are lost,\n"+
			"and migrations applied since are pending again.\n", path)
	}
	if err := e.confirm("Restore the database from " + path + "?"); err != nil {
		return err
	}
	if err := e.m.Restore(ctx, path); err != nil {
		return err
	}
	if e.g.json {
		return e.writeJSON(jsonRestore{Restored: path})
	}
	fmt.Fprintf(e.stdout, "restored from %s\n", path)
	return nil
}

// formatSize shows n bytes for people: 512 B, 1.5 KiB, 20.0 MiB.
func formatSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

package adopt_test

import "io/fs"

func fsSub(dir string) (fs.FS, error) { return fs.Sub(fixtures, dir) }

package backup

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// trigDump wraps statements the way the dump tools write a trigger.
func trigDump(header, body string) string {
	return "DELIMITER ;;\n/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 " + header + " FOR EACH ROW " + body + " */;;\nDELIMITER ;\n"
}

func TestRewriteTriggers(t *testing.T) {
	const hostLine = "-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB\n--\n-- Host: 127.0.0.1    Database: prod\n-- ----\n"
	tests := []struct {
		name     string
		db       string
		fold     bool
		in, want string
		err      string // the error has it; want is then ignored
	}{
		{name: "bare table qualifier", db: "app",
			in:   trigDump("TRIGGER tr BEFORE INSERT ON app.t", "SET NEW.a = 1"),
			want: trigDump("TRIGGER tr BEFORE INSERT ON t", "SET NEW.a = 1")},
		{name: "quoted table qualifier", db: "app",
			in:   trigDump("TRIGGER `tr` AFTER UPDATE ON `app`.`t`", "SET @x = 1"),
			want: trigDump("TRIGGER `tr` AFTER UPDATE ON `t`", "SET @x = 1")},
		{name: "qualified trigger name", db: "app",
			in:   trigDump("TRIGGER app.tr BEFORE DELETE ON t", "SET @x = 1"),
			want: trigDump("TRIGGER tr BEFORE DELETE ON t", "SET @x = 1")},
		{name: "both, with spaces and comments", db: "app",
			in:   trigDump("TRIGGER /* ON other.t */ `app` . tr BEFORE INSERT ON /* x */ app\n . `t`", "SET NEW.a = 1"),
			want: trigDump("TRIGGER /* ON other.t */  tr BEFORE INSERT ON /* x */  `t`", "SET NEW.a = 1")},
		{name: "no space before the qualifier", db: "app",
			in:   trigDump("TRIGGER`app`.tr BEFORE INSERT ON`app`.t", "SET NEW.a = 1"),
			want: trigDump("TRIGGER tr BEFORE INSERT ON t", "SET NEW.a = 1")},
		{name: "body naming the database is kept", db: "app",
			in:   trigDump("TRIGGER tr AFTER INSERT ON app.t", "INSERT INTO app.log SELECT 1 FROM app.u JOIN app.t ON app.t.a = app.u.a"),
			want: trigDump("TRIGGER tr AFTER INSERT ON t", "INSERT INTO app.log SELECT 1 FROM app.u JOIN app.t ON app.t.a = app.u.a")},
		{name: "body with a nested trigger-like text", db: "app",
			in:   trigDump("TRIGGER tr BEFORE INSERT ON t", "SET NEW.s = 'CREATE TRIGGER app.x BEFORE INSERT ON app.t FOR EACH ROW ;; x'"),
			want: trigDump("TRIGGER tr BEFORE INSERT ON t", "SET NEW.s = 'CREATE TRIGGER app.x BEFORE INSERT ON app.t FOR EACH ROW ;; x'")},
		{name: "strings and comments are not statements", db: "app",
			in: "INSERT INTO `t` VALUES (1,'a;b'),(2,'x'';CREATE TRIGGER app.tr BEFORE INSERT ON app.t FOR EACH ROW SET @a=1;'),(3,\"\\\" ;;\");\n" +
				"-- CREATE TRIGGER app.tr BEFORE INSERT ON app.t FOR EACH ROW SET @a = 1;\n" +
				"# CREATE TRIGGER app.tr BEFORE INSERT ON app.t FOR EACH ROW SET @a = 1;\n" +
				"/* CREATE TRIGGER app.tr BEFORE INSERT ON app.t FOR EACH ROW SET @a = 1; */\n" +
				"SELECT 'CREATE TRIGGER app.tr BEFORE INSERT ON app.t FOR EACH ROW';\n",
			want: "INSERT INTO `t` VALUES (1,'a;b'),(2,'x'';CREATE TRIGGER app.tr BEFORE INSERT ON app.t FOR EACH ROW SET @a=1;'),(3,\"\\\" ;;\");\n" +
				"-- CREATE TRIGGER app.tr BEFORE INSERT ON app.t FOR EACH ROW SET @a = 1;\n" +
				"# CREATE TRIGGER app.tr BEFORE INSERT ON app.t FOR EACH ROW SET @a = 1;\n" +
				"/* CREATE TRIGGER app.tr BEFORE INSERT ON app.t FOR EACH ROW SET @a = 1; */\n" +
				"SELECT 'CREATE TRIGGER app.tr BEFORE INSERT ON app.t FOR EACH ROW';\n"},
		{name: "statement after strings with the delimiter", db: "app",
			in:   "DELIMITER ;;\nCREATE PROCEDURE p() BEGIN SELECT ';;'; SELECT \"';;\"; END;;\nCREATE DEFINER=root@localhost TRIGGER app.tr BEFORE INSERT ON app.t FOR EACH ROW BEGIN SET @a = ';;'; END;;\nDELIMITER ;\n",
			want: "DELIMITER ;;\nCREATE PROCEDURE p() BEGIN SELECT ';;'; SELECT \"';;\"; END;;\nCREATE DEFINER=root@localhost TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET @a = ';;'; END;;\nDELIMITER ;\n"},
		{name: "other statements naming the database", db: "app",
			in:   "CREATE TABLE app.t (a int);\nCREATE VIEW app.v AS SELECT 1;\nDELIMITER ;;\nCREATE PROCEDURE app.p() SELECT 1;;\nDELIMITER ;\n",
			want: "CREATE TABLE app.t (a int);\nCREATE VIEW app.v AS SELECT 1;\nDELIMITER ;;\nCREATE PROCEDURE app.p() SELECT 1;;\nDELIMITER ;\n"},
		{name: "definer forms, OR REPLACE, IF NOT EXISTS", db: "app",
			in: "DELIMITER $$\nCREATE OR REPLACE DEFINER = CURRENT_USER() TRIGGER IF NOT EXISTS app.a BEFORE INSERT ON app.t FOR EACH ROW SET @a = 1$$\n" +
				"create definer='u'@'%' trigger app.b after insert on app.t for each row follows a set @a = 1$$\nDELIMITER ;\n",
			want: "DELIMITER $$\nCREATE OR REPLACE DEFINER = CURRENT_USER() TRIGGER IF NOT EXISTS a BEFORE INSERT ON t FOR EACH ROW SET @a = 1$$\n" +
				"create definer='u'@'%' trigger b after insert on t for each row follows a set @a = 1$$\nDELIMITER ;\n"},
		{name: "database name with a backquote", db: "a`b",
			in:   trigDump("TRIGGER `a``b`.tr BEFORE INSERT ON `a``b`.`t`", "SET NEW.a = 1"),
			want: trigDump("TRIGGER tr BEFORE INSERT ON `t`", "SET NEW.a = 1")},
		{name: "database name with a dot", db: "a.b",
			in:   trigDump("TRIGGER tr BEFORE INSERT ON `a.b`.t", "SET NEW.a = 1"),
			want: trigDump("TRIGGER tr BEFORE INSERT ON t", "SET NEW.a = 1")},
		{name: "the dump's database and the target", db: "staging",
			in:   hostLine + trigDump("TRIGGER prod.tr BEFORE INSERT ON staging.t", "SET NEW.a = 1"),
			want: hostLine + trigDump("TRIGGER tr BEFORE INSERT ON t", "SET NEW.a = 1")},
		{name: "case folded", db: "app", fold: true,
			in:   trigDump("TRIGGER tr BEFORE INSERT ON APP.t", "SET NEW.a = 1"),
			want: trigDump("TRIGGER tr BEFORE INSERT ON t", "SET NEW.a = 1")},
		{name: "case kept", db: "app",
			in:  trigDump("TRIGGER tr BEFORE INSERT ON APP.t", "SET NEW.a = 1"),
			err: `trigger "tr": its table APP.t names database "APP"`},
		{name: "other database's table", db: "app",
			in:  "SELECT 1;\n" + trigDump("TRIGGER tr BEFORE INSERT ON `other`.t", "SET NEW.a = 1"),
			err: `trigger "tr": its table ` + "`other`.t" + ` names database "other"`},
		{name: "other database's trigger", db: "app",
			in:  trigDump("TRIGGER other.tr BEFORE INSERT ON t", "SET NEW.a = 1"),
			err: `trigger "tr": its name names database "other"`},
		{name: "not a header: left alone", db: "app",
			in:   trigDump("TRIGGER app.tr BEFORE INSERT ON app.t.x", "SET NEW.a = 1") + "CREATE TRIGGER app.tr;\n",
			want: trigDump("TRIGGER app.tr BEFORE INSERT ON app.t.x", "SET NEW.a = 1") + "CREATE TRIGGER app.tr;\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := rewriteTriggers(&out, strings.NewReader(tt.in), tt.db, tt.fold)
			if tt.err != "" {
				if err == nil || !errors.Is(err, errForeignTrigger) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", out.String(), tt.want)
			}
			var slow bytes.Buffer
			if err := rewriteTriggers(&slow, iotest.OneByteReader(strings.NewReader(tt.in)), tt.db, tt.fold); err != nil || slow.String() != out.String() {
				t.Errorf("read a byte at a time: %v\n%s", err, slow.String())
			}
		})
	}
}

// TestRewriteTriggersLongTokens: strings and comments longer than the
// buffers are copied whole.
func TestRewriteTriggersLongTokens(t *testing.T) {
	long := strings.Repeat("x'';;\\\\ \\'(", 100_000) // a doubled quote, the delimiter, escapes
	in := "INSERT INTO `t` VALUES ('" + long + "');\n/* " + long + " */\n" +
		trigDump("TRIGGER tr BEFORE INSERT ON app.t", "SET NEW.a = '"+long+"'")
	var out bytes.Buffer
	if err := rewriteTriggers(&out, strings.NewReader(in), "app", false); err != nil {
		t.Fatal(err)
	}
	if want := strings.Replace(in, "ON app.t", "ON t", 1); out.String() != want {
		t.Errorf("output differs (%d bytes, want %d)", out.Len(), len(want))
	}
}

// TestRewriteTriggersDump: the dump the scanner tests use passes through
// unchanged.
func TestRewriteTriggersDump(t *testing.T) {
	var out bytes.Buffer
	if err := rewriteTriggers(&out, strings.NewReader(dumpText), "app", false); err != nil {
		t.Fatal(err)
	}
	if out.String() != dumpText {
		t.Errorf("changed:\n%s", out.String())
	}
}

// FuzzRewriteTriggers: whatever the input, the rewriter does not panic,
// reads it the same whatever the reads return, and only removes database
// qualifiers naming the dumped database, each between a TRIGGER keyword
// and a FOR.
func FuzzRewriteTriggers(f *testing.F) {
	f.Add([]byte(trigDump("TRIGGER app.tr BEFORE INSERT ON `app`.`t`", "SET NEW.a = 'ON app.t;;'")))
	f.Add([]byte("-- Host: h    Database: prod\nDELIMITER ;;\nCREATE TRIGGER prod.x AFTER DELETE ON app.t FOR EACH ROW BEGIN SET @a = 1; END;;\nDELIMITER ;\n"))
	f.Add([]byte(dumpText))
	f.Fuzz(func(t *testing.T, in []byte) {
		rw := newTriggerRewriter(new(bytes.Buffer), bytes.NewReader(in), "app", false)
		var out bytes.Buffer
		rw.w.Reset(&out)
		cuts, err := rw.run()
		var slow bytes.Buffer
		err2 := rewriteTriggers(&slow, iotest.OneByteReader(bytes.NewReader(in)), "app", false)
		if !bytes.Equal(slow.Bytes(), out.Bytes()) || (err == nil) != (err2 == nil) {
			t.Fatalf("a byte at a time: %v, %q; at once: %v, %q", err2, slow.Bytes(), err, out.Bytes())
		}
		// Rebuild the output from the input and the cuts.
		var want []byte
		prev := int64(0)
		// ASCII only: bytes.ToUpper turns invalid UTF-8 into U+FFFD and
		// moves every offset after it.
		upper := make([]byte, len(in))
		for i, c := range in {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			upper[i] = c
		}
		for i := 0; i < len(cuts); i += 2 {
			s, e := cuts[i], cuts[i+1]
			if s < prev || e <= s || e > int64(len(in)) {
				t.Fatalf("bad cuts %v", cuts)
			}
			cut := string(in[s:e])
			named := false
			for _, db := range rw.dbs {
				for _, q := range []string{db, quoteBack(db), `"` + db + `"`} {
					named = named || strings.HasPrefix(cut, q)
				}
			}
			if !named || !strings.HasSuffix(cut, ".") {
				t.Fatalf("cut %q does not qualify with %q", cut, rw.dbs)
			}
			if bytes.LastIndex(upper[:s], []byte("TRIGGER")) < 0 || !bytes.Contains(upper[e:], []byte("FOR")) {
				t.Fatalf("cut %q is not in a trigger's header", cut)
			}
			want = append(want, in[prev:s]...)
			if s > 0 && int(e) < len(in) && isWordByte(in[s-1]) && isWordByte(in[e]) {
				want = append(want, ' ')
			}
			prev = e
		}
		want = append(want, in[prev:]...)
		if err == nil && !bytes.Equal(out.Bytes(), want) {
			t.Fatalf("output %q, want %q", out.Bytes(), want)
		}
		if err != nil && !bytes.HasPrefix(want, out.Bytes()) {
			t.Fatalf("output before the error %q is not a prefix of %q", out.Bytes(), want)
		}
	})
}

// BenchmarkRewriteTriggers measures the copy every restore makes of the
// dump, on the data BenchmarkScanDump reads.
func BenchmarkRewriteTriggers(b *testing.B) {
	var d strings.Builder
	d.WriteString("-- MariaDB dump 10.19\nCREATE TABLE `t` (`a` int, `b` text, `c` blob);\n")
	for range 200 {
		d.WriteString("INSERT INTO `t` VALUES ")
		for i := range 1000 {
			if i > 0 {
				d.WriteByte(',')
			}
			fmt.Fprintf(&d, "(%d,'some text, with \\'quotes\\' and (parens) %d',0x%064x)", i, i, i)
		}
		d.WriteString(";\n")
	}
	d.WriteString("-- Dump completed\n")
	data := d.String()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := rewriteTriggers(io.Discard, strings.NewReader(data), "app", false); err != nil {
			b.Fatal(err)
		}
	}
}

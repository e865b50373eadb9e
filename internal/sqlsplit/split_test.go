package sqlsplit

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		name   string
		flavor Flavor
		src    string
		want   []Statement
	}{
		{"two statements", Standard, "SELECT 1;\nSELECT 2;\n", []Statement{{"SELECT 1", 1}, {"SELECT 2", 2}}},
		{"no final terminator", Standard, "SELECT 1;\n\n  SELECT 2", []Statement{{"SELECT 1", 1}, {"SELECT 2", 3}}},
		{"comments only dropped", Standard, "-- one;\n/* two; */\n", nil},
		{"leading comment kept out of line", Standard, "-- x;\nSELECT 1;", []Statement{{"SELECT 1", 2}}},
		{"string literal", Standard, "INSERT INTO t VALUES ('a;b', 'it''s;');SELECT 2", []Statement{{"INSERT INTO t VALUES ('a;b', 'it''s;')", 1}, {"SELECT 2", 1}}},
		{"backslash is plain in standard", Standard, `SELECT 'C:\';SELECT 2`, []Statement{{`SELECT 'C:\'`, 1}, {"SELECT 2", 1}}},
		{"E string escapes", Standard, `SELECT E'a\';b';SELECT 2`, []Statement{{`SELECT E'a\';b'`, 1}, {"SELECT 2", 1}}},
		{"backslash escapes in mysql", MySQL, `SELECT 'it\'s;';SELECT 2`, []Statement{{`SELECT 'it\'s;'`, 1}, {"SELECT 2", 1}}},
		{"quoted identifiers", Standard, "CREATE TABLE \"a;\" (`b;` int);", []Statement{{"CREATE TABLE \"a;\" (`b;` int)", 1}}},
		{"mysql hash comment", MySQL, "# x;\nSELECT 1;", []Statement{{"SELECT 1", 2}}},
		{"dollar quoted body", Standard,
			"CREATE FUNCTION f() RETURNS trigger AS $$\nBEGIN\n  NEW.a := 1;\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;\nSELECT 1;",
			[]Statement{{"CREATE FUNCTION f() RETURNS trigger AS $$\nBEGIN\n  NEW.a := 1;\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql", 1}, {"SELECT 1", 7}}},
		{"tagged dollar quote", Standard, "DO $body$ BEGIN PERFORM 1; END $body$;SELECT $1;", []Statement{{"DO $body$ BEGIN PERFORM 1; END $body$", 1}, {"SELECT $1", 1}}},
		{"sqlite trigger", Standard,
			"CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  INSERT INTO b VALUES (1);\n  UPDATE c SET x = CASE WHEN 1 THEN 2 ELSE 3 END;\nEND;\nSELECT 1;",
			[]Statement{{"CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  INSERT INTO b VALUES (1);\n  UPDATE c SET x = CASE WHEN 1 THEN 2 ELSE 3 END;\nEND", 1}, {"SELECT 1", 5}}},
		{"mysql trigger with IF", MySQL,
			"CREATE DEFINER=`root`@`%` TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN\n IF NEW.x < 0 THEN SET NEW.x = 0; END IF;\n WHILE 0 DO SET @a = 1; END WHILE;\nEND;\nSELECT 1",
			[]Statement{{"CREATE DEFINER=`root`@`%` TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN\n IF NEW.x < 0 THEN SET NEW.x = 0; END IF;\n WHILE 0 DO SET @a = 1; END WHILE;\nEND", 1}, {"SELECT 1", 5}}},
		{"mysql CASE statement", MySQL,
			"CREATE PROCEDURE p() BEGIN CASE 1 WHEN 1 THEN SELECT 1; END CASE; END;SELECT 2",
			[]Statement{{"CREATE PROCEDURE p() BEGIN CASE 1 WHEN 1 THEN SELECT 1; END CASE; END", 1}, {"SELECT 2", 1}}},
		{"transaction BEGIN is no block", Standard, "BEGIN;\nSELECT 1;\nCOMMIT;", []Statement{{"BEGIN", 1}, {"SELECT 1", 2}, {"COMMIT", 3}}},
		{"column named begin", Standard, "CREATE TABLE t (\"begin\" int, end_at int);SELECT 1", []Statement{{"CREATE TABLE t (\"begin\" int, end_at int)", 1}, {"SELECT 1", 1}}},
		{"mysql delimiter", MySQL,
			"DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; END$$\nDELIMITER ;\nSELECT 2;",
			[]Statement{{"CREATE PROCEDURE p() BEGIN SELECT 1; END", 2}, {"SELECT 2", 4}}},
		{"crlf", Standard, "SELECT 1;\r\nSELECT 2;\r\n", []Statement{{"SELECT 1", 1}, {"SELECT 2", 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Split(tt.src, tt.flavor)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Split(%q)\n got %q\nwant %q", tt.src, got, tt.want)
			}
		})
	}
}

func TestSplitUnterminated(t *testing.T) {
	tests := []struct {
		name, src string
		line      int
		msg       string
	}{
		{"string", "SELECT 1;\nSELECT 'abc;\n", 2, "string literal"},
		{"identifier", "SELECT \"abc", 1, "quoted identifier"},
		{"comment", "\n\n/* abc", 3, "block comment"},
		{"dollar", "SELECT $x$ abc $y$", 1, "dollar-quoted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Split(tt.src, Standard)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a *SyntaxError", err)
			}
			if se.Line != tt.line || !strings.Contains(se.Msg, tt.msg) {
				t.Errorf("err = %v, want line %d and %q", err, tt.line, tt.msg)
			}
		})
	}
}

// FuzzSplit checks that Split never panics, that every statement is the
// input's text at the line it reports, and that splitting a statement again
// gives it back whole.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{
		"SELECT 1; SELECT 2",
		"CREATE TRIGGER t BEGIN SELECT 1; END; SELECT 'x;'",
		"DO $$ BEGIN END $$; -- c;\n/* ; */ SELECT \"a;\"",
		"DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END//\nDELIMITER ;\n",
		"SELECT E'\\';'; SELECT `a;`",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, src string, mysql bool) {
		fl := Standard
		if mysql {
			fl = MySQL
		}
		stmts, err := Split(src, fl)
		if err != nil {
			return
		}
		lines := strings.Split(src, "\n")
		for _, st := range stmts {
			if st.SQL == "" {
				t.Fatalf("empty statement from %q", src)
			}
			if st.Line < 1 || st.Line > len(lines) {
				t.Fatalf("line %d out of range in %q", st.Line, src)
			}
			rest := strings.Join(lines[st.Line-1:], "\n")
			if !strings.Contains(rest, st.SQL) {
				t.Fatalf("statement %q is not in the input from line %d: %q", st.SQL, st.Line, src)
			}
			// A DELIMITER line, in any case, is a directive, not a
			// statement: text around one need not split alike alone.
			if strings.Contains(strings.ToUpper(src), "DELIMITER") {
				continue
			}
			again, err := Split(st.SQL, fl)
			if err != nil || len(again) != 1 || again[0].SQL != st.SQL {
				t.Fatalf("statement %q splits again into %q, %v (from %q)", st.SQL, again, err, src)
			}
		}
	})
}

package backup

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// dumpText is a small dump in the tools' format, with what the scanner
// must not miscount: strings holding parentheses, quotes, comment and
// delimiter characters, an executable comment, and a routine and a
// trigger whose bodies hold INSERT statements under DELIMITER ;;.
const dumpText = "/*M!999999\\- enable the sandbox mode */ \n" +
	"-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB\n" +
	"/*!40101 SET NAMES utf8mb4 */;\n" +
	"DROP TABLE IF EXISTS `t``x`;\n" +
	"CREATE TABLE `t``x` (\n  `a` int(11) NOT NULL,\n  `b` text\n) ENGINE=InnoDB;\n" +
	"LOCK TABLES `t``x` WRITE;\n" +
	"/*!40000 ALTER TABLE `t``x` DISABLE KEYS */;\n" +
	"INSERT INTO `t``x` VALUES (1,'a ) ( ; -- b'),(2,'it\\'s \\\\'),(3,'x''y /* z */ #w'),(4,NULL),(5,0x2829);\n" +
	"INSERT INTO `t``x` VALUES (6,\"dq ) \\\" (\");\n" +
	"/*!40000 ALTER TABLE `t``x` ENABLE KEYS */;\n" +
	"UNLOCK TABLES;\n" +
	"CREATE TABLE `empty` (`x` int);\n" +
	"CREATE TABLE `g` (`a` int, `b` int, `c` int, `d` int AS (a + b) VIRTUAL);\n" +
	"INSERT INTO `g` (`a`, `b`, `c`) VALUES (1,2,3),(5,6,7);\n" +
	"DELIMITER ;;\n" +
	"/*!50003 CREATE*/ /*!50003 TRIGGER tr AFTER INSERT ON `empty` FOR EACH ROW BEGIN\nINSERT INTO `t``x` VALUES (7,'no'); INSERT INTO `t``x` VALUES (8,'no'); END */;;\n" +
	"CREATE PROCEDURE `p`()\nBEGIN\nINSERT INTO `t``x` VALUES (9,'no');\nINSERT INTO `empty` VALUES (1);\nEND ;;\n" +
	"DELIMITER ;\n" +
	"-- Dump completed on 2026-12-03  0:00:00\n"

func TestScanDump(t *testing.T) {
	st, err := scanDump(strings.NewReader(dumpText))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(st.tables); got != "[t`x empty g]" {
		t.Errorf("tables %s", got)
	}
	if st.rows["t`x"] != 6 || st.rows["empty"] != 0 || st.rows["g"] != 2 || !st.trailer || st.afterEnd {
		t.Errorf("rows %v, trailer %v, after end %v", st.rows, st.trailer, st.afterEnd)
	}
	if err := st.check(); err != nil {
		t.Errorf("check without a manifest: %v", err)
	}
	var b bytes.Buffer
	b.WriteString(dumpText)
	if err := writeManifest(&b, st); err != nil {
		t.Fatal(err)
	}
	st2, err := scanDump(&b)
	if err != nil {
		t.Fatal(err)
	}
	if err := st2.check(); err != nil {
		t.Errorf("check with the manifest: %v", err)
	}
	for name, spoil := range map[string]func(string) string{
		"row removed":         func(s string) string { return strings.Replace(s, ",(4,NULL)", "", 1) },
		"statement after end": func(s string) string { return s + "DROP TABLE `t``x`;\n" },
		"manifest line lost":  func(s string) string { return strings.Replace(s, "-- strata-table 0 \"empty\"\n", "", 1) },
		"count changed":       func(s string) string { return strings.Replace(s, "-- strata-table 6 ", "-- strata-table 7 ", 1) },
		"quote lost":          func(s string) string { return strings.Replace(s, "#w')", "#w)", 1) },
		"unterminated string": func(s string) string { return strings.Replace(s, "-- Dump completed", "'-- Dump completed", 1) },
	} {
		var m bytes.Buffer
		m.WriteString(dumpText)
		writeManifest(&m, st)
		st3, err := scanDump(strings.NewReader(spoil(m.String())))
		if err == nil {
			err = st3.check()
		}
		if err == nil {
			t.Errorf("%s: no error", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// BenchmarkScanDump measures the scanner that reads every dump as it is
// written and again before it is restored.
func BenchmarkScanDump(b *testing.B) {
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
		if _, err := scanDump(strings.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

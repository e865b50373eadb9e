package cli

import (
	"context"
	"flag"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/migration"
)

// Shell completion works as cobra's does: the script a shell loads (from
// "completion bash|zsh|fish") hands the words typed so far to the hidden
// command __complete, which answers with one candidate a line, as
// "value<TAB>description", or with one of these directives for the shell
// to complete names from the file system.
const (
	completeFiles = ":files"
	completeDirs  = ":dirs"
)

// shells are the shells completion writes scripts for.
var shells = []string{"bash", "zsh", "fish"}

func runCompletion(_ context.Context, e *env) error {
	if e.g.json {
		return usageErrorf("completion prints a shell script; --json does not apply")
	}
	sh := e.args[0]
	tmpl, ok := completionScripts[sh]
	if !ok {
		return usageErrorf("completion: unknown shell %q (want %s)", sh, strings.Join(shells, ", "))
	}
	words := strings.Fields(e.c.prog)
	data := map[string]any{
		"Prog":   e.c.prog,
		"Bin":    words[0],
		"Prefix": words[1:],
		"Func":   "_" + nonIdent.ReplaceAllString(words[0], "_") + "_strata_complete",
	}
	return tmpl.Execute(e.stdout, data)
}

var nonIdent = regexp.MustCompile(`[^A-Za-z0-9_]`)

// runComplete answers the completion scripts: e.args are the words after
// the program (and its prefix words), the last being the word under the
// cursor, possibly empty.
func runComplete(_ context.Context, e *env) error {
	words := e.args
	if len(words) == 0 {
		words = []string{""}
	}
	cur, done := words[len(words)-1], words[:len(words)-1]
	global := e.newFlagSet("")
	var cmd *command
	var cmdFlags *flag.FlagSet
	lookup := func(name string) *flag.Flag {
		if cmdFlags != nil {
			if f := cmdFlags.Lookup(name); f != nil {
				return f
			}
		}
		return global.Lookup(name)
	}
	var pos []string
	prevFlag := (*flag.Flag)(nil)
	dashdash := false
	for _, w := range done {
		switch {
		case prevFlag != nil:
			prevFlag = nil
		case dashdash || !strings.HasPrefix(w, "-") || w == "-":
			if cmd == nil && !dashdash {
				if cmd = lookupCommand(w); cmd != nil && cmd.flags != nil {
					cmdFlags = flag.NewFlagSet(cmd.name, flag.ContinueOnError)
					cmd.flags(cmdFlags, &flags{})
				}
				continue
			}
			pos = append(pos, w)
		case w == "--":
			dashdash = true
		default:
			name := strings.TrimLeft(w, "-")
			if strings.Contains(name, "=") {
				continue
			}
			if f := lookup(name); f != nil && !isBoolFlag(f) {
				prevFlag = f
			}
		}
	}
	var out []string
	add := func(value, desc string) {
		if strings.HasPrefix(value, cur) {
			out = append(out, value+"\t"+desc)
		}
	}
	ids := func() {
		g, err := migration.NewGraph(e.ms)
		if err != nil {
			return
		}
		for _, mg := range g.Migrations() {
			add(mg.ID(), describe(mg))
		}
	}
	commandNames := func() {
		for _, c := range commands {
			if !c.hidden {
				add(c.name, c.summary)
			}
		}
	}
	switch {
	case prevFlag != nil:
		switch prevFlag.Name {
		case "dialect":
			for _, n := range dialect.Names() {
				add(n, "")
			}
		case "backup-dir", "dir":
			out = append(out, completeDirs)
		case "to":
			ids()
		}
	case strings.HasPrefix(cur, "-") && !dashdash:
		visit := func(f *flag.Flag) {
			_, usage := flag.UnquoteUsage(f)
			if len(f.Name) == 1 {
				add("-"+f.Name, usage)
			} else {
				add("--"+f.Name, usage)
			}
		}
		if cmdFlags != nil {
			cmdFlags.VisitAll(visit)
		}
		global.VisitAll(visit)
	case cmd == nil:
		commandNames()
	case len(pos) == 0:
		switch cmd.name {
		case "baseline", "repair":
			ids()
		case "restore":
			out = append(out, completeFiles)
		case "help":
			commandNames()
		case "completion":
			for _, sh := range shells {
				add(sh, "")
			}
		}
	}
	slices.Sort(out)
	for _, l := range out {
		fmt.Fprintln(e.stdout, l)
	}
	return nil
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// The scripts. Each one checks that the words typed start with the
// program's prefix words ("migrate" for "app migrate"), then asks
// "<program> <prefix> __complete -- <words>".
var completionScripts = map[string]*template.Template{
	"bash": template.Must(template.New("bash").Parse(`# bash completion for {{.Prog}}.
# Load it in ~/.bashrc:  source <({{.Prog}} completion bash)
{{.Func}}() {
    local cur=${COMP_WORDS[COMP_CWORD]} i=1 w
    local -a prefix=({{range .Prefix}}{{.}} {{end}})
    for w in "${prefix[@]}"; do
        if (( COMP_CWORD == i )); then
            COMPREPLY=($(compgen -W "$w" -- "$cur"))
            return
        fi
        [[ ${COMP_WORDS[i]} == "$w" ]] || return
        ((i++))
    done
    local line IFS=$'\n'
    local -a out
    out=($("${COMP_WORDS[0]}" "${prefix[@]}" __complete -- "${COMP_WORDS[@]:i:COMP_CWORD-i+1}" 2>/dev/null))
    COMPREPLY=()
    for line in "${out[@]}"; do
        case $line in
            :files) COMPREPLY+=($(compgen -f -- "$cur")) ;;
            :dirs) COMPREPLY+=($(compgen -d -- "$cur")) ;;
            *) COMPREPLY+=("${line%%$'\t'*}") ;;
        esac
    done
}
complete -F {{.Func}} {{.Bin}}
`)),
	"zsh": template.Must(template.New("zsh").Parse(`# zsh completion for {{.Prog}}.
# Load it in ~/.zshrc, after compinit:  source <({{.Prog}} completion zsh)
{{.Func}}() {
    local -a prefix=({{range .Prefix}}{{.}} {{end}}) out values
    local i=2 w line
    for w in "${prefix[@]}"; do
        if (( CURRENT == i )); then
            compadd -- "$w"
            return
        fi
        [[ ${words[i]} == "$w" ]] || return 1
        ((i++))
    done
    out=("${(@f)$("${words[1]}" "${prefix[@]}" __complete -- "${(@)words[i,CURRENT]}" 2>/dev/null)}")
    for line in "${out[@]}"; do
        case $line in
            :files) _files ;;
            :dirs) _files -/ ;;
            '') ;;
            *) values+=("${${line%%$'\t'*}//:/\\:}:${line#*$'\t'}") ;;
        esac
    done
    (( ${#values} )) && _describe -t values '{{.Prog}}' values
}
compdef {{.Func}} {{.Bin}}
`)),
	"fish": template.Must(template.New("fish").Parse(`# fish completion for {{.Prog}}.
# Load it:  {{.Prog}} completion fish | source
# or save it as ~/.config/fish/completions/{{.Bin}}.fish
function {{.Func}}
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    set -l prefix{{range .Prefix}} {{.}}{{end}}
    set -l i 2
    for w in $prefix
        if test (count $words) -lt $i
            test (string sub -l (string length -- $cur) -- $w) = "$cur"; and echo $w
            return
        end
        test "$words[$i]" = "$w"; or return
        set i (math $i + 1)
    end
    for line in ($words[1] $prefix __complete -- $words[$i..-1] $cur 2>/dev/null)
        switch $line
            case :files
                __fish_complete_path $cur
            case :dirs
                __fish_complete_directories $cur
            case '*'
                echo $line
        end
    end
end
complete -c {{.Bin}} -f -a '({{.Func}})'
`)),
}

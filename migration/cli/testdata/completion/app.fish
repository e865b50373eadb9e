# fish completion for app migrate.
# Load it:  app migrate completion fish | source
# or save it as ~/.config/fish/completions/app.fish
function _app_strata_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    set -l prefix migrate
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
complete -c app -f -a '(_app_strata_complete)'

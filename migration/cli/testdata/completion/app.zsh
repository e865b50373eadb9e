# zsh completion for app migrate.
# Load it in ~/.zshrc, after compinit:  source <(app migrate completion zsh)
_app_strata_complete() {
    local -a prefix=(migrate ) out values
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
    (( ${#values} )) && _describe -t values 'app migrate' values
}
compdef _app_strata_complete app

# bash completion for app migrate.
# Load it in ~/.bashrc:  source <(app migrate completion bash)
_app_strata_complete() {
    local cur=${COMP_WORDS[COMP_CWORD]} i=1 w
    local -a prefix=(migrate )
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
complete -F _app_strata_complete app

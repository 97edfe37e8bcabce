#!/bin/bash
# Bash completion of patroni-debianctl: commands, options, cluster names.
. "$(dirname "$0")/lib.sh"

if [ ! -r /usr/share/bash-completion/bash_completion ]; then
        skip "bash completion (package bash-completion not installed)"
        finish
fi
new_root
new_cluster "$R" 15 main 5432
new_cluster "$R" 15 my-db 5433
new_cluster "$R" 16 main 5434
"$CTL" generate --root "$R" --port=5440 15 replica >/dev/null

# complete WORDS...: what completing the last word of "patroni-debianctl WORDS..." offers, sorted, one line.
complete_words() {
        bash -c '
                . /usr/share/bash-completion/bash_completion
                . "$1"
                shift
                COMP_WORDS=(patroni-debianctl "$@")
                COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
                COMP_LINE="${COMP_WORDS[*]}"
                COMP_POINT=${#COMP_LINE}
                _patroni_debianctl
                printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "
        ' _ "$top_srcdir/etc/bash-completion/patroni-debianctl" "$@" 2>/dev/null
}

check "commands" "check connstr ctl generate join list upgrade " "$(complete_words "")"
check "list: --json" "--json " "$(complete_words list --)"
check "check: clusters" "15/main 15/my-db 15/replica " "$(complete_words --root "$R" check 15/)"
check "global options" "--help --root= --version " "$(complete_words --)"
check "generate: options" "--endpoint= " "$(complete_words generate --e)"
check "generate: versions" "15 16 " "$(complete_words --root "$R" generate "")"
check "generate: cluster names of a version (pg-common's and configured ones)" "main my-db replica " \
        "$(complete_words --root "$R" generate 15 "")"
check "ctl: clusters as VERSION/CLUSTER" "15/main 15/my-db " "$(complete_words --root "$R" ctl 15/m)"
check "ctl: patronictl's commands" "reinit reload restart resume " "$(complete_words --root "$R" ctl 15/main re)"
check "connstr: options" "--format= --help --read-only " "$(complete_words connstr --)"
check "connstr: --format=" "keyword uri " "$(complete_words connstr --format=)"
check "connstr: clusters" "15/main 15/my-db " "$(complete_words --root "$R" connstr 15/m)"
check "connstr: clusters after --format=uri" "15/main 15/my-db " "$(complete_words --root "$R" connstr --format = uri 15/m)"
check "upgrade: options" "--all --dry-run --help " "$(complete_words upgrade --)"
check "join: clusters" "16/main " "$(complete_words --root "$R" join 16/)"
check "after --root: directories and files" "yes" "$(complete_words --root /us | grep -q '/usr' && echo yes)"
finish

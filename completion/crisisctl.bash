# bash completion for crisisctl(1)                       -*- shell-script -*-
#
# Commands, the options of each command, member ids (from
# `crisisctl roster list --json`) and alert ids (from `crisisctl list --json`)
# when the daemon answers; nothing is asked of the daemon otherwise.

# The daemon's answer to "crisisctl [-s SOCKET] --json ARGS...", quietly.
_crisisctl_query()
{
	local -a cmd=("${_crisisctl_bin:-crisisctl}")
	[[ -n $_crisisctl_sock ]] && cmd+=(-s "$_crisisctl_sock")
	if type -P timeout >/dev/null; then
		timeout 2 "${cmd[@]}" --json "$@" 2>/dev/null
	else
		"${cmd[@]}" --json "$@" 2>/dev/null
	fi
}

_crisisctl_members()
{
	_crisisctl_query roster list |
	    sed -n 's/^[[:space:]]*"id":[[:space:]]*"\([^"]*\)".*/\1/p'
}

_crisisctl_alerts()
{
	_crisisctl_query list |
	    sed -n 's/^[[:space:]]*"id":[[:space:]]*\([0-9][0-9]*\).*/\1/p'
}

_crisisctl()
{
	local cur prev words cword
	if declare -F _init_completion >/dev/null; then
		_init_completion || return
	else
		COMPREPLY=()
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	fi

	local verbs="draft show list status cap approve reject cancel renotify
	    suspend resume roster rules calendar audit reload ping version"
	local _crisisctl_bin=${words[0]} _crisisctl_sock="" verb="" vi=0 i

	# Global options come before the command.
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-s) _crisisctl_sock=${words[i + 1]}; ((i++)) ;;
		--as) ((i++)) ;;
		-*) ;;
		*) verb=${words[i]}; vi=$i; break ;;
		esac
	done
	_crisisctl_sock=${_crisisctl_sock/#\~/$HOME}

	if [[ -z $verb ]]; then
		case $prev in
		-s)
			COMPREPLY=($(compgen -f -- "$cur"))
			return
			;;
		--as)
			COMPREPLY=($(compgen -W "$(_crisisctl_members)" -- "$cur"))
			return
			;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "-s --json --as -h --help" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$verbs" -- "$cur"))
		fi
		return
	fi

	# The option's value, for options that take one.
	case $prev in
	--tag | --body | --reason | --since | --until | --at)
		return
		;;
	--set)
		# KEY=VALUE: the keys are the tag's templates' to know.
		compopt -o nospace 2>/dev/null
		return
		;;
	--body-file)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--to)
		COMPREPLY=($(compgen -W "crisis shelter shelter: kind: member:" \
		    -- "$cur"))
		[[ ${COMPREPLY[0]} == *: ]] && compopt -o nospace 2>/dev/null
		return
		;;
	--state)
		COMPREPLY=($(compgen -W "pending_approval approved sending
		    complete rejected expired cancelled" -- "$cur"))
		return
		;;
	--member)
		COMPREPLY=($(compgen -W "$(_crisisctl_members)" -- "$cur"))
		return
		;;
	--alert)
		COMPREPLY=($(compgen -W "$(_crisisctl_alerts)" -- "$cur"))
		return
		;;
	--format)
		COMPREPLY=($(compgen -W "csv json" -- "$cur"))
		return
		;;
	esac

	# Positional arguments after the verb, options excluded.
	local npos=0
	for ((i = vi + 1; i < cword; i++)); do
		case ${words[i]} in
		--tag | --to | --body | --body-file | --reason | --state | \
		    --since | --until | --member | --alert | --format | --at | \
		    --set)
			((i++)) ;;
		-*) ;;
		*) ((npos++)) ;;
		esac
	done

	local opts="" args=""
	case $verb in
	draft) opts="--tag --to --body --body-file --set --drill" ;;
	list) opts="--state --since" ;;
	status)
		opts="--watch --unconfirmed"
		((npos == 0)) && args=$(_crisisctl_alerts)
		;;
	show | cap | approve | renotify)
		((npos == 0)) && args=$(_crisisctl_alerts)
		;;
	reject | cancel)
		opts="--reason"
		((npos == 0)) && args=$(_crisisctl_alerts)
		;;
	suspend)
		opts="--reason"
		((npos == 0)) && args=$(_crisisctl_members)
		;;
	resume)
		((npos == 0)) && args=$(_crisisctl_members)
		;;
	roster)
		if ((npos == 0)); then
			args="check list show"
		elif ((npos == 1)) && [[ ${words[vi + 1]} == show ]]; then
			args=$(_crisisctl_members)
		fi
		;;
	rules)
		if ((npos == 0)); then
			args="check"
		else
			opts="--tag --body --body-file --to --set --at --drill"
		fi
		;;
	audit) opts="--since --until --member --alert --format --bom" ;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	else
		COMPREPLY=($(compgen -W "$args" -- "$cur"))
	fi
} &&
	complete -F _crisisctl crisisctl

# ex: filetype=sh

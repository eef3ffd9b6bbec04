import { Command, Option } from 'commander';
import { DIAGNOSE_SECTION_INFO } from '../checks/sections.js';
import { ExitCode, UsageError } from '../core/errors.js';
import { examples, type CommandHost } from './host.js';

/** What completes after one command path (`""` is aegis-ir itself, `"fix rollback"` a remediation). */
export interface CompletionNode {
  path: string;
  /** Subcommands, then the values of its positional argument (remediation ids, sections, scenarios). */
  words: string[];
  /** Its own flags and every inherited one, long and short. */
  flags: string[];
}

/** How the value of a flag completes: a fixed list, files, the kubeconfig's contexts or namespaces, or nothing. */
export type ValueCompletion = { values: string[] } | 'file' | 'contexts' | 'namespaces' | 'none';

/** The completion data of the whole command tree, the one source every shell's script is generated from. */
export interface CompletionTree {
  nodes: CompletionNode[];
  /** Every flag that takes a value, by each of its spellings. */
  valueFlags: Map<string, ValueCompletion>;
}

/** Values of a command's positional argument, by command path; read when the script is generated. */
const ARGUMENT_VALUES: Record<string, () => Promise<string[]>> = {
  diagnose: async () => Object.keys(DIAGNOSE_SECTION_INFO),
  drill: async () => (await import('../sandbox/kube-simulator/scenario/load.js')).listScenarios(),
  runbook: async () => (await import('./runbook.js')).loadRunbook().sections.map((s) => s.id),
};

export const SHELLS = ['bash', 'zsh', 'fish', 'powershell'] as const;
type Shell = (typeof SHELLS)[number];

/** Walks the program (every command built) into completion data. */
export async function completionTree(program: Command): Promise<CompletionTree> {
  const nodes: CompletionNode[] = [];
  const valueFlags = new Map<string, ValueCompletion>();
  const visit = async (command: Command, path: string, inherited: Option[]): Promise<void> => {
    const options = [...command.options.filter((o) => !o.hidden), ...inherited];
    for (const option of options) {
      if (!option.required && !option.optional) continue;
      for (const spelling of [option.long, option.short]) if (spelling) valueFlags.set(spelling, valueCompletion(option));
    }
    const children = command.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
    const words = [...children.map((c) => c.name()), ...(path === '' ? ['help'] : []), ...((await ARGUMENT_VALUES[path]?.()) ?? [])];
    const flags = options.flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f)));
    nodes.push({ path, words, flags: [...new Set([...flags, '--help'])] });
    for (const child of children) await visit(child, path ? `${path} ${child.name()}` : child.name(), options);
  };
  await visit(program, '', []);
  return { nodes, valueFlags };
}

function valueCompletion(option: Option): ValueCompletion {
  if (option.argChoices) return { values: [...option.argChoices] };
  if (option.long === '--context') return 'contexts';
  if (option.long === '--namespace') return 'namespaces';
  return /<file>|\[file\]/.test(option.flags) ? 'file' : 'none';
}

/** `completion <shell>`: a script that completes commands, flags and their values, generated from the command tree. */
export function completionCommand(host: CommandHost, program: () => Promise<Command>): Command {
  return new Command('completion')
    .argument('<shell>', SHELLS.join(', '))
    .addHelpText(
      'after',
      examples(
        'aegis-ir completion bash > ~/.local/share/bash-completion/completions/aegis-ir',
        'source <(aegis-ir completion bash)               # this shell only',
        'source <(aegis-ir completion zsh)                # ~/.zshrc',
        'aegis-ir completion fish > ~/.config/fish/completions/aegis-ir.fish',
        'aegis-ir completion powershell | Out-String | Invoke-Expression',
      ),
    )
    .action(async (shell: string) => {
      if (!(SHELLS as readonly string[]).includes(shell)) {
        throw new UsageError(`unknown shell "${shell}"; expected one of: ${SHELLS.join(', ')}`, 'aegis-ir completion bash');
      }
      host.runtime.stdout.write(completionScript(shell as Shell, await completionTree(await program())));
      host.exit(ExitCode.ok);
    });
}

/**
 * `__complete contexts|namespaces`: the values the scripts ask for at completion time, read from the
 * kubeconfig (no cluster call, so it is fast), one a line; nothing at all when there is no kubeconfig.
 */
export function completeCommand(host: CommandHost): Command {
  return new Command('__complete').argument('<kind>').action(async (kind: string, _options, command: Command) => {
    host.exit(ExitCode.ok);
    try {
      const ctx = await host.context(command);
      const { readKubeConfig } = await import('../kube/kubeconfig.js');
      const kc = await readKubeConfig({ kubeconfig: ctx.config.kubeconfig, namespace: ctx.config.namespace }, ctx.env);
      const values =
        kind === 'contexts'
          ? kc.getContexts().map((c) => c.name)
          : [ctx.config.namespace, ...kc.getContexts().flatMap((c) => (c.namespace ? [c.namespace] : []))];
      host.runtime.stdout.write([...new Set(values)].map((v) => `${v}\n`).join(''));
    } catch {
      // A completion never prints an error in the middle of the operator's command line.
    }
  });
}

function completionScript(shell: Shell, tree: CompletionTree): string {
  switch (shell) {
    case 'bash':
      return bashScript(tree);
    case 'zsh':
      // zsh runs the bash function through its bash-completion layer: one generated logic for both.
      return `#compdef aegis-ir kubectl-aegis\nautoload -U +X bashcompinit && bashcompinit\n${bashScript(tree)}`;
    case 'fish':
      return fishScript(tree);
    default:
      return powershellScript(tree);
  }
}

/** `"/triage"`, `"fix/rollback"`: a word that extends the path before the slash. */
function subcommandKeys(tree: CompletionTree): string[] {
  const paths = new Set(tree.nodes.map((n) => n.path));
  return tree.nodes.flatMap((n) => n.words.filter((w) => paths.has(n.path ? `${n.path} ${w}` : w)).map((w) => `${n.path}/${w}`));
}

/** A flag value's completion, spelled in one shell's words. */
function inShell(
  how: ValueCompletion,
  spell: { file: string; none: string; values: (values: string[]) => string; kubeconfig: (kind: 'contexts' | 'namespaces') => string },
): string {
  if (typeof how === 'object') return spell.values(how.values);
  return how === 'file' || how === 'none' ? spell[how] : spell.kubeconfig(how);
}

const quote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

function bashScript(tree: CompletionTree): string {
  const valueCases = [...tree.valueFlags].map(([flag, how]) => {
    const body = inShell(how, {
      file: 'COMPREPLY=($(compgen -f -- "$cur")); return;;',
      none: 'COMPREPLY=(); return;;',
      values: (values) => `values=${quote(values.join(' '))};;`,
      kubeconfig: (kind) => `values="$("\${COMP_WORDS[0]}" __complete ${kind} 2>/dev/null)";;`,
    });
    return `    ${flag}) ${body}`;
  });
  return `# bash completion for aegis-ir, generated by: aegis-ir completion bash
__aegis_ir_takes_value() {
  case "$1" in ${[...tree.valueFlags.keys()].join('|') || '__none__'}) return 0;; esac
  return 1
}
__aegis_ir_is_subcommand() {
  case "$1/$2" in ${subcommandKeys(tree).map(quote).join('|')}) return 0;; esac
  return 1
}
__aegis_ir_words() {
  case "$1" in
${tree.nodes.map((n) => `    ${quote(n.path)}) echo ${quote(n.words.join(' '))};;`).join('\n')}
  esac
}
__aegis_ir_flags() {
  case "$1" in
${tree.nodes.map((n) => `    ${quote(n.path)}) echo ${quote(n.flags.join(' '))};;`).join('\n')}
  esac
}
_aegis_ir() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" path="" i w skip=0 values
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if ((skip)); then skip=0; continue; fi
    case "$w" in
      --*=*) ;;
      -*) __aegis_ir_takes_value "$w" && skip=1 ;;
      *) __aegis_ir_is_subcommand "$path" "$w" && path="\${path:+$path }$w" ;;
    esac
  done
  if ((COMP_CWORD > 1)) && __aegis_ir_takes_value "$prev"; then
    case "$prev" in
${valueCases.join('\n')}
    esac
    COMPREPLY=($(compgen -W "$values" -- "$cur"))
    return
  fi
  if [[ $cur == -* ]]; then values="$(__aegis_ir_flags "$path")"; else values="$(__aegis_ir_words "$path")"; fi
  COMPREPLY=($(compgen -W "$values" -- "$cur"))
}
complete -o default -F _aegis_ir aegis-ir kubectl-aegis
`;
}

function fishScript(tree: CompletionTree): string {
  const list = (words: string[]) => words.map(quote).join(' ');
  const valueCases = [...tree.valueFlags].map(([flag, how]) => {
    const body = inShell(how, {
      file: '__fish_complete_path $cur',
      none: 'true',
      values: (values) => `printf '%s\\n' ${list(values)}`,
      kubeconfig: (kind) => `$tokens[1] __complete ${kind} 2>/dev/null`,
    });
    return `    case ${quote(flag)}\n      ${body}\n      return`;
  });
  return `# fish completion for aegis-ir, generated by: aegis-ir completion fish
function __aegis_ir_complete
  set -l tokens (commandline -opc)
  set -l cur (commandline -ct)
  set -l path ''
  set -l skip 0
  for w in $tokens[2..-1]
    if test $skip = 1; set skip 0; continue; end
    switch $w
      case '--*=*'
      case '-*'
        contains -- $w ${list([...tree.valueFlags.keys()])}; and set skip 1
      case '*'
        contains -- "$path/$w" ${list(subcommandKeys(tree))}; and set path (string trim -- "$path $w")
    end
  end
  if test (count $tokens) -gt 1
    switch $tokens[-1]
${valueCases.join('\n')}
    end
  end
  switch "$path"
${tree.nodes
  .map((n) => `    case ${quote(n.path)}\n      if string match -q -- '-*' $cur\n        printf '%s\\n' ${list(n.flags)}\n      else\n        printf '%s\\n' ${list(n.words)}\n      end`)
  .join('\n')}
  end
end
complete -c aegis-ir -f -a '(__aegis_ir_complete)'
complete -c kubectl-aegis -f -a '(__aegis_ir_complete)'
`;
}

function powershellScript(tree: CompletionTree): string {
  const ps = (text: string) => `'${text.replace(/'/g, "''")}'`;
  const array = (words: string[]) => `@(${words.map(ps).join(', ')})`;
  const values = [...tree.valueFlags].map(([flag, how]) => {
    const value = typeof how === 'object' ? array(how.values) : ps(how);
    return `    ${ps(flag)} = ${value}`;
  });
  return `# PowerShell completion for aegis-ir, generated by: aegis-ir completion powershell
$__aegisIrWords = @{
${tree.nodes.map((n) => `    ${ps(n.path)} = ${array(n.words)}`).join('\n')}
}
$__aegisIrFlags = @{
${tree.nodes.map((n) => `    ${ps(n.path)} = ${array(n.flags)}`).join('\n')}
}
$__aegisIrValues = @{
${values.join('\n')}
}
$__aegisIrSubcommands = ${array(subcommandKeys(tree))}
Register-ArgumentCompleter -Native -CommandName aegis-ir, kubectl-aegis -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $tokens = @($commandAst.CommandElements | ForEach-Object { $_.ToString() })
    if ($wordToComplete -ne '') { $tokens = $tokens[0..($tokens.Count - 2)] }
    $path = ''
    $skip = $false
    foreach ($w in $tokens | Select-Object -Skip 1) {
        if ($skip) { $skip = $false; continue }
        if ($w -like '-*') { if ($__aegisIrValues.ContainsKey($w)) { $skip = $true }; continue }
        if ($__aegisIrSubcommands -contains "$path/$w") { $path = ("$path $w").Trim() }
    }
    $prev = $tokens[-1]
    $candidates = @()
    if ($tokens.Count -gt 1 -and $__aegisIrValues.ContainsKey($prev)) {
        $how = $__aegisIrValues[$prev]
        if ($how -is [array]) { $candidates = $how }
        elseif ($how -eq 'contexts' -or $how -eq 'namespaces') { $candidates = @(& $tokens[0] __complete $how 2>$null) }
        elseif ($how -eq 'file') { return }
    } elseif ($wordToComplete -like '-*') { $candidates = $__aegisIrFlags[$path] }
    else { $candidates = $__aegisIrWords[$path] }
    $candidates | Where-Object { $_ -like "$wordToComplete*" } | ForEach-Object {
        [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
    }
}
`;
}

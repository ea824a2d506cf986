/**
 * At the edge of the pipeline: the {@code ./resa} command line ({@link dev.resa.cli.Main}). One subcommand per stage of
 * <b>model → activations → sae → tuning → eval</b> ({@code generate}, {@code train-lm}, {@code train-sae},
 * {@code sae-metrics}, {@code tune}, {@code sft}, {@code grpo}, {@code merge}, {@code eval}, {@code grade}) plus
 * {@code miniature}, {@code kernel} and {@code bench}. Commands only parse options and call the library; a failure is
 * reported once, centrally, by {@link dev.resa.cli.CliErrors}: one line naming the file, line, key or option, a
 * non-zero exit, and the stack trace only with {@code --verbose}.
 */
package dev.resa.cli;

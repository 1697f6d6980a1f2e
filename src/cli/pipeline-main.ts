#!/usr/bin/env node
/** Stand-alone entry for the pipeline commands until they join the main CLI: `node --import tsx src/cli/pipeline-main.ts worker …`. */
import { Command } from 'commander';
import { registerPipelineCommands, reportCliError } from './pipeline-commands.js';

const program = new Command('modelplane');
registerPipelineCommands(program);
program.parseAsync(process.argv).catch(reportCliError);

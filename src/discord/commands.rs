// PLACEHOLDER (replaced at merge): the INTERACTIONS helper owns this file.
//! Slash command definitions (placeholder: only `/hot`).

use serenity::builder::CreateCommand;

/// Every slash command, for registration (placeholder: `/hot` only).
pub fn definitions() -> Vec<CreateCommand> {
    vec![CreateCommand::new("hot").description("Today's hot arXiv papers")]
}

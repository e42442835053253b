//! `carbon-gate schema` (and `policy schema`): the JSON Schemas the tool publishes.

use super::Outcome;
use crate::cli::SchemaKind;
use crate::exit::Exit;
use crate::{config, disclosure, ingest, policy};

/// The JSON Schema of `which`, for standard output.
pub(crate) fn schema_command(which: SchemaKind) -> Outcome {
    let schema = match which {
        SchemaKind::Policy => policy::schema_json(),
        SchemaKind::Config => config::schema_json(),
        SchemaKind::Facts => disclosure::facts::schema_json(),
        SchemaKind::Disclosure => disclosure::schema_json(),
        SchemaKind::Record => ingest::native::schema_json(),
        SchemaKind::Report => crate::report::schema_json(),
    };
    Outcome {
        stdout: schema.into_bytes(),
        stderr: Vec::new(),
        exit: Exit::Pass,
    }
}

//! Policy files: `policy::from_texts` (parse, validate, lint) on arbitrary text. A NUL byte splits
//! the input into two policy files, so the merging of overrides across files is reached too.
#![no_main]
use std::path::PathBuf;

use carbon_gate::policy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (first, second) = carbon_gate_fuzz::split2(data);
    let Ok(first) = std::str::from_utf8(first) else {
        return;
    };
    let mut texts = vec![(PathBuf::from("policies/a.yaml"), first.to_owned())];
    if !second.is_empty() {
        let Ok(second) = std::str::from_utf8(second) else {
            return;
        };
        texts.push((PathBuf::from("policies/b.yaml"), second.to_owned()));
    }
    if let Ok(loaded) = policy::from_texts(texts, Vec::new()) {
        let _ = policy::validate::lint(&loaded.policy);
    }
});

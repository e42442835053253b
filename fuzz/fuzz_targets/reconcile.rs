//! The reconciliation of rows that share a run id (issue #17): arbitrary snapshots, forgeries and
//! decoys of a few runs, written as a CodeCarbon log and read by both ledgers (every record
//! kept, and the streaming one of `check`) under both conflict rules. Properties: no panic; both
//! ledgers refuse the same logs; what they count is the same to the bit, and never less than any
//! row of a run in any figure.
#![no_main]
use carbon_gate::ingest::{self, Options};
use carbon_gate::ledger::{self, Attribution, ConflictRule, Rules, reduce::Reducer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Each row: 6 bytes: run (2 bits) and model (1 bit), energy, CO2e, duration, start offset.
    let mut text = String::from("timestamp,project_name,run_id,duration,emissions,energy_consumed\n");
    for row in data.chunks_exact(6).take(64) {
        let run = row[0] & 3;
        let model = if row[0] & 4 == 0 { "m" } else { "decoy" };
        let duration = f64::from(row[3]);
        let start = u32::from(row[4] % 8);
        let at = start + row[3] as u32;
        text.push_str(&format!(
            "2026-01-01T{:02}:{:02}:{:02},{model},run-{run},{duration},{:?},{:?}\n",
            at / 3600,
            at / 60 % 60,
            at % 60,
            f64::from(row[2]) / 1000.0,
            f64::from(row[1]) / 100.0,
        ));
    }
    let paths = vec![carbon_gate_fuzz::write_fresh("reconcile", "emissions.csv", text.as_bytes())];
    for conflicts in [ConflictRule::Refuse, ConflictRule::CountLarger] {
        let attribution = Attribution {
            rules: Rules { conflicts },
            ..Attribution::default()
        };
        let Ok(read) = ingest::ingest(&paths, &Options::default()) else {
            return;
        };
        let records = read.records.clone();
        let full = ledger::reconcile_with(read.records, attribution.rules)
            .and_then(|mut r| ledger::aggregate(&mut r, &attribution));
        let mut reducer = Reducer::new(attribution.rules);
        let reduced = ingest::ingest_into(&paths, &Options::default(), &mut reducer)
            .and_then(|_| reducer.finish(&attribution));
        match (&full, &reduced) {
            (Ok((a, _)), Ok((b, _))) => {
                assert_eq!(a.len(), b.len());
                for (x, y) in a.iter().zip(b) {
                    assert_eq!(x.totals, y.totals);
                    // What is counted for a run is never below any of its rows.
                    for c in &x.contributions {
                        for r in records.iter().filter(|r| r.run_id == c.run_id) {
                            assert!(c.emissions.value() >= r.emissions.value() * (1.0 - 1e-9));
                            let (ce, re) = (c.energy.map_or(0.0, |e| e.value()), r.energy.map_or(0.0, |e| e.value()));
                            assert!(ce >= re * (1.0 - 1e-9));
                        }
                    }
                }
            }
            (Err(_), Err(_)) => {}
            _ => panic!("one ledger refused, the other not: {:?} / {:?}", full.err(), reduced.err()),
        }
    }
});

//! Quantity strings: `units::parse_quantity` for the dimension picked by the first byte, and the
//! human rendering of whatever it accepts.
#![no_main]
use carbon_gate::units::{self, Dimension, Quantity};
use libfuzzer_sys::fuzz_target;

const DIMENSIONS: [Dimension; 6] = [
    Dimension::Mass,
    Dimension::Energy,
    Dimension::Intensity,
    Dimension::Percent,
    Dimension::Power,
    Dimension::Duration,
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let dimension = DIMENSIONS[usize::from(pick) % DIMENSIONS.len()];
    match units::parse_quantity(text, dimension) {
        Ok(Quantity::Mass(m)) => drop(m.to_string()),
        Ok(Quantity::Energy(e)) => drop(e.to_string()),
        Ok(Quantity::Intensity(i)) => drop(i.to_string()),
        Ok(Quantity::Percent(r)) => drop(r.to_string()),
        Ok(Quantity::Power(p)) => drop(p.to_string()),
        Ok(Quantity::Duration(d)) => drop(d.to_string()),
        Err(e) => drop(e.to_string()),
    }
});

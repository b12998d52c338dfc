//! Matmul throughput of a backend, to size the attribution sweeps.
#![allow(clippy::unwrap_used, deprecated)]
use burn::tensor::{Device, Tensor, TensorData};
use std::time::Instant;

fn main() {
    let device = Device::ndarray();
    for (m, k, n) in [
        (2048usize, 768usize, 3072usize),
        (2048, 3072, 768),
        (128, 768, 3072),
        (16, 768, 2304),
    ] {
        let a = Tensor::<2>::from_data(TensorData::new(vec![0.5f32; m * k], [m, k]), &device);
        let b = Tensor::<2>::from_data(TensorData::new(vec![0.25f32; k * n], [k, n]), &device);
        let _ = a.clone().matmul(b.clone()).into_data();
        let reps = 5;
        let t = Instant::now();
        for _ in 0..reps {
            let _ = a.clone().matmul(b.clone()).into_data();
        }
        let s = t.elapsed().as_secs_f64() / reps as f64;
        println!(
            "[{m}x{k}]@[{k}x{n}]: {:.1} ms, {:.1} GFLOP/s",
            s * 1e3,
            2.0 * (m * k * n) as f64 / s / 1e9
        );
    }
}

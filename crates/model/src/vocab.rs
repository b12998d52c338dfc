//! Vocabulary-sized matrices (token embedding, unembedding) stored in row chunks.
//!
//! GPT-2's `wte` is 50,257 x 768 f32 = 147 MiB, more than a GPU storage binding may hold
//! (WebGPU's default is 128 MiB; lavapipe's Vulkan limit is 128 MiB too). Chunks of at most
//! [`MAX_CHUNK_BYTES`] keep every binding small on every backend.

use burn::tensor::{Device, Int, Tensor, TensorData};

/// Largest chunk, in bytes.
pub const MAX_CHUNK_BYTES: usize = 64 << 20;

pub struct RowChunks {
    chunks: Vec<Tensor<2>>,
    rows_per_chunk: usize,
    n_rows: usize,
    width: usize,
    device: Device,
}

impl RowChunks {
    /// `data` is `[n_rows, width]`, row-major.
    pub fn new(data: &[f32], n_rows: usize, width: usize, device: &Device) -> Self {
        let rows_per_chunk = (MAX_CHUNK_BYTES / (4 * width.max(1))).clamp(1, n_rows.max(1));
        Self::with_rows_per_chunk(data, n_rows, width, rows_per_chunk, device)
    }

    fn with_rows_per_chunk(
        data: &[f32],
        n_rows: usize,
        width: usize,
        rows_per_chunk: usize,
        device: &Device,
    ) -> Self {
        let chunks = data
            .chunks(rows_per_chunk * width)
            .map(|c| {
                Tensor::from_data(
                    TensorData::new(c.to_vec(), [c.len() / width, width]),
                    device,
                )
            })
            .collect();
        Self {
            chunks,
            rows_per_chunk,
            n_rows,
            width,
            device: device.clone(),
        }
    }

    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Rows `ids` (each `< n_rows`, checked by the caller), in order: `[ids.len(), width]`.
    pub fn rows(&self, ids: &[u32]) -> Tensor<2> {
        let int = |v: Vec<i64>| {
            let n = v.len();
            Tensor::<1, Int>::from_data(TensorData::new(v, [n]), &self.device)
        };
        let mut parts = Vec::new();
        let mut source_slot = vec![0i64; ids.len()];
        let mut taken = 0i64;
        for (c, chunk) in self.chunks.iter().enumerate() {
            let start = c * self.rows_per_chunk;
            let local: Vec<(usize, i64)> = ids
                .iter()
                .enumerate()
                .filter(|(_, id)| (**id as usize) / self.rows_per_chunk == c)
                .map(|(i, id)| (i, (*id as usize - start) as i64))
                .collect();
            if local.is_empty() {
                continue;
            }
            for (k, (i, _)) in local.iter().enumerate() {
                source_slot[*i] = taken + k as i64;
            }
            taken += local.len() as i64;
            parts.push(
                chunk
                    .clone()
                    .select(0, int(local.into_iter().map(|(_, l)| l).collect())),
            );
        }
        if parts.len() == 1 && source_slot.iter().enumerate().all(|(i, s)| *s == i as i64) {
            return parts.remove(0);
        }
        Tensor::cat(parts, 0).select(0, int(source_slot))
    }

    /// `x @ self^T`: `[n, width]` -> `[n, n_rows]`.
    pub fn matmul_transposed(&self, x: Tensor<2>) -> Tensor<2> {
        let parts = self
            .chunks
            .iter()
            .map(|c| x.clone().matmul(c.clone().transpose()))
            .collect();
        Tensor::cat(parts, 1)
    }

    pub fn width(&self) -> usize {
        self.width
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::readback::to_host;

    #[test]
    #[allow(deprecated)]
    fn chunked_rows_and_products_equal_the_whole_matrix() {
        let device = Device::ndarray();
        let (n, w) = (10, 3);
        let data: Vec<f32> = (0..n * w).map(|i| i as f32 * 0.5 - 3.0).collect();
        let chunked = RowChunks::with_rows_per_chunk(&data, n, w, 4, &device);
        assert_eq!(chunked.chunks.len(), 3);
        let ids = [9u32, 0, 4, 4, 3, 7];
        let got = to_host(chunked.rows(&ids)).unwrap();
        let expected: Vec<f32> = ids
            .iter()
            .flat_map(|&i| data[i as usize * w..(i as usize + 1) * w].to_vec())
            .collect();
        assert_eq!(got, expected);
        let x: Vec<f32> = vec![1.0, -2.0, 0.5, 0.0, 1.0, 3.0];
        let prod = to_host(chunked.matmul_transposed(Tensor::from_data(
            TensorData::new(x.clone(), [2, w]),
            &device,
        )))
        .unwrap();
        for r in 0..2 {
            for c in 0..n {
                let e: f32 = (0..w).map(|k| x[r * w + k] * data[c * w + k]).sum();
                assert!(
                    (prod[r * n + c] - e).abs() < 1e-5,
                    "chunked product [{r}, {c}] is {} instead of {e}",
                    prod[r * n + c]
                );
            }
        }
    }
}

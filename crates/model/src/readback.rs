//! Reading results back from the device, and waiting for the engine where the platform can:
//! the one place where device failures become `RunError::Device`.

use burn::tensor::Tensor;

use crate::error::RunError;

/// Reads a tensor back to the host as f32, row-major; device failures (out of memory, lost
/// device) are errors, not panics. Works wherever the read can finish without waiting: natively,
/// and for CPU backends in wasm. A browser GPU must be read with [`to_host_async`].
pub fn to_host<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, RunError> {
    burn::tensor::try_read_sync(to_host_async(t)).unwrap_or_else(|| {
        Err(RunError::invalid(
            "reading a result from the device",
            "this platform cannot wait for the device here (use the async API in the browser)",
        ))
    })
}

/// [`to_host`] for platforms that cannot block (WebGPU in the browser).
pub async fn to_host_async<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, RunError> {
    t.into_data_async()
        .await
        .map_err(|e| RunError::device("reading a result back", e.to_string()))?
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| RunError::invalid("reading a result from the device", format!("{e:?}")))
}

/// Runs an engine future to its end where the platform can wait (natively; CPU backends in
/// wasm). The sync entry points of the crates above are this around their `_async` versions.
pub fn block_on<T>(f: impl Future<Output = Result<T, RunError>>) -> Result<T, RunError> {
    burn::tensor::try_read_sync(f).unwrap_or_else(|| {
        Err(RunError::invalid(
            "waiting for the device",
            "this platform cannot block (use the async API in the browser)",
        ))
    })
}

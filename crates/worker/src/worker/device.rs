//! Picking the compute device in the worker: WebGPU when the browser has it and a self-test
//! passes, else burn's ndarray backend on the CPU (with a notice saying why), on the threads of
//! the threaded build when this is it.

use burn::tensor::Device;
#[cfg(feature = "webgpu")]
use burn::tensor::{Tensor, TensorData};
use js_sys::Reflect;
#[cfg(feature = "webgpu")]
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;

/// `navigator.gpu`, when the browser has the WebGPU API.
fn gpu_api() -> Option<JsValue> {
    Reflect::get(&js_sys::global(), &"navigator".into())
        .and_then(|nav| Reflect::get(&nav, &"gpu".into()))
        .ok()
        .filter(|gpu| !gpu.is_undefined() && !gpu.is_null())
}

/// Whether this worker may compute on WebGPU: the browser has the API (no adapter requested),
/// and this is not the threaded CPU build.
pub fn webgpu_api() -> bool {
    cfg!(feature = "webgpu") && gpu_api().is_some()
}

/// Whether the browser exposes WebGPU and gives an adapter (a Chromium without
/// `--enable-unsafe-webgpu` on Linux has `navigator.gpu` but no adapter).
#[cfg(feature = "webgpu")]
async fn has_webgpu() -> bool {
    let Some(gpu) = gpu_api() else {
        return false;
    };
    let Ok(request) =
        Reflect::get(&gpu, &"requestAdapter".into()).and_then(|f| f.dyn_into::<js_sys::Function>())
    else {
        return false;
    };
    let Ok(promise) = request.call0(&gpu) else {
        return false;
    };
    match wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(&promise)).await {
        Ok(adapter) => !adapter.is_null() && !adapter.is_undefined(),
        Err(_) => false,
    }
}

#[allow(deprecated)] // burn 0.22 prefers `flex`; the project computes on ndarray, its reference CPU backend.
pub fn cpu() -> Device {
    Device::ndarray()
}

/// Whether tensors on `device` live in the worker's heap (the memory check of a load counts
/// them there).
pub fn is_cpu(device: &Device) -> bool {
    *device == cpu()
}

/// A matmul and a reduction whose result is known: catches a device that comes up but
/// computes nothing (invalid pipelines, lost device).
#[cfg(feature = "webgpu")]
async fn self_test(device: &Device) -> Result<(), String> {
    let a = Tensor::<2>::from_data(
        TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]),
        device,
    );
    let b = Tensor::<2>::from_data(
        TensorData::new(vec![1.0f32, 0.0, 0.0, 1.0, 1.0, 1.0], [3, 2]),
        device,
    );
    let got = gradpatch_model::to_host_async(a.matmul(b).sum_dim(1))
        .await
        .map_err(|e| e.to_string())?;
    // [[1+3, 2+3], [4+6, 5+6]] summed per row: 9 and 21.
    if got == [9.0, 21.0] {
        Ok(())
    } else {
        Err(format!(
            "the GPU computed {got:?} for a test product, expected [9, 21]"
        ))
    }
}

/// What the CPU backend is, as the page shows it: how many threads, and why only one.
fn cpu_label() -> String {
    let threads = gradpatch_methods::cpu_threads();
    if threads > 1 {
        return format!("CPU (ndarray, {threads} threads, SIMD)");
    }
    format!("CPU (ndarray, one thread{}, SIMD)", one_thread_reason())
}

/// Why the CPU backend has one thread here, for its label.
fn one_thread_reason() -> &'static str {
    let global = js_sys::global();
    let isolated = Reflect::get(&global, &"crossOriginIsolated".into())
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let cores = Reflect::get(&global, &"navigator".into())
        .and_then(|nav| Reflect::get(&nav, &"hardwareConcurrency".into()))
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or(1.0);
    if !isolated {
        ": the page is not cross-origin isolated"
    } else if cores < 2.0 {
        ": one core"
    } else {
        ""
    }
}

/// The device to compute on, its description, and a notice when it is not what was asked.
#[cfg(feature = "webgpu")]
pub async fn pick(cpu_only: bool) -> (Device, String, Option<String>) {
    if cpu_only {
        return (cpu(), cpu_label(), None);
    }
    if !has_webgpu().await {
        return (
            cpu(),
            cpu_label(),
            Some("This browser has no WebGPU (or no WebGPU adapter): computing on the CPU instead (one thread), which is much slower.".into()),
        );
    }
    // (web/worker_loader.js makes every device request ask for `subgroups` when offered.)
    let gpu = async {
        let device = Device::wgpu_options()
            .init_async()
            .await
            .map_err(|e| format!("WebGPU could not start: {e}"))?;
        self_test(&device).await?;
        Ok::<_, String>(device)
    };
    match gpu.await {
        Ok(device) => (device, "WebGPU".into(), None),
        Err(why) => (
            cpu(),
            cpu_label(),
            Some(format!("{why}. Computing on the CPU instead (one thread).")),
        ),
    }
}

/// The threaded CPU build (no WebGPU): its threads, then the CPU. web/worker_loader.js starts
/// this build only where the browser has no WebGPU adapter or the CPU was asked for.
#[cfg(not(feature = "webgpu"))]
pub async fn pick(cpu_only: bool) -> (Device, String, Option<String>) {
    let threads = super::threads::start().await;
    let label = cpu_label();
    let notice = match (threads, cpu_only) {
        (Err(why), _) => Some(format!(
            "The CPU threads could not start ({why}): computing on one thread, which is slower."
        )),
        (Ok(_), true) => None,
        (Ok(n), false) => Some(format!(
            "This browser has no WebGPU (or no WebGPU adapter): computing on the CPU instead ({n} threads), which is much slower."
        )),
    };
    (cpu(), label, notice)
}

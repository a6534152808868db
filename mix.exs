defmodule Mix.Tasks.Compile.KhepriNif do
  @shortdoc "Builds the Rust engine NIF into priv/"
  @moduledoc """
  Builds the Rust engine NIF with `sh scripts/build-nif.sh` (a release
  `cargo build`, then a copy to `priv/libkhepri_nif.so`), the same pre-hook
  rebar3 runs. cargo's output is streamed; a non-zero exit fails the compile.
  """

  use Mix.Task.Compiler

  @script "scripts/build-nif.sh"

  @impl Mix.Task.Compiler
  def run(_args) do
    root = Path.dirname(Mix.Project.project_file())

    case System.cmd("sh", [@script],
           cd: root,
           into: IO.stream(:stdio, :line),
           stderr_to_stdout: true
         ) do
      {_, 0} ->
        # `mix compile` links priv/ into _build/<env>/lib/khepri/ before the
        # compilers run, and only if priv/ exists then: on a clean tree the
        # script just created it, so link it now (code:priv_dir(khepri) must
        # find the NIF there).
        Mix.Project.build_structure(Mix.Project.config())
        {:ok, []}

      {_, status} ->
        message = "#{@script} failed with exit status #{status}"
        Mix.shell().error(message)

        {:error,
         [
           %Mix.Task.Compiler.Diagnostic{
             compiler_name: "khepri_nif",
             file: Path.join(root, @script),
             position: nil,
             message: message,
             severity: :error
           }
         ]}
    end
  end
end

defmodule Khepri.MixProject do
  use Mix.Project

  # Keep in sync with src/khepri.app.src (used by rebar3).
  @version "0.1.0"
  @description "Tree-like, Raft-replicated store with a Rust engine (Khepri API)"

  def project do
    [
      app: :khepri,
      version: @version,
      elixir: "~> 1.14",
      description: @description,
      compilers: [:khepri_nif] ++ Mix.compilers(),
      erlc_paths: ["src"],
      erlc_include_path: "include",
      erlc_options: [:debug_info, :warnings_as_errors],
      test_paths: ["test/elixir"],
      start_permanent: Mix.env() == :prod,
      deps: [],
      package: [licenses: ["Apache-2.0"]]
    ]
  end

  def application do
    [
      mod: {:khepri_app, []},
      registered: [:khepri_sup],
      env: [],
      extra_applications: [:logger]
    ]
  end
end

defmodule Khepri.ExportErlang do
  @moduledoc """
  Import/export callback module storing nodes as Erlang terms in text, the
  Elixir face of `:khepri_export_erlang`. It can be given as the module
  argument of `Khepri.export/3,4` and `Khepri.import/2,3`:

      :ok = Khepri.export(:my_store, Khepri.ExportErlang, "backup.erl")
      :ok = Khepri.import(:other_store, Khepri.ExportErlang, "backup.erl")

  The private argument is a file name (created, closed at the end, deleted
  if the export fails; UTF-8, readable with `:file.consult/1`) or an open IO
  device (a pid, `:standard_io` or `:standard_error`, left open). Each item
  is one `~0p` Erlang term per line. Terms without a text form (pids, ports,
  references, anonymous functions) are refused with `{:error,
  {:unsupported_term, term}}`.
  """

  @behaviour :khepri_import_export

  @doc "Opens (creates or truncates) the file to export to, or takes an open IO device."
  @impl true
  @spec open_write(term()) :: {:ok, term()} | {:error, term()}
  def open_write(file_or_device), do: :khepri_export_erlang.open_write(file_or_device)

  @doc "Writes items, one term per line; refuses terms without a text form."
  @impl true
  @spec write(term(), [term()]) :: {:ok, term()} | {:error, term()}
  def write(state, items), do: :khepri_export_erlang.write(state, items)

  @doc "Ends an export: syncs and closes the file it opened (a device is left open)."
  @impl true
  @spec commit_write(term()) :: :ok | {:error, term()}
  def commit_write(state), do: :khepri_export_erlang.commit_write(state)

  @doc "Ends a failed export: closes and deletes the file it opened."
  @impl true
  @spec abort_write(term()) :: :ok
  def abort_write(state), do: :khepri_export_erlang.abort_write(state)

  @doc "Opens the file to import from, or takes an open IO device."
  @impl true
  @spec open_read(term()) :: {:ok, term()} | {:error, term()}
  def open_read(file_or_device), do: :khepri_export_erlang.open_read(file_or_device)

  @doc "Reads the next items (about 100 KiB worth); `[]` means the end."
  @impl true
  @spec read(term()) :: {:ok, [term()], term()} | {:error, term()}
  def read(state), do: :khepri_export_erlang.read(state)

  @doc "Ends an import: closes the file it opened (a device is left open)."
  @impl true
  @spec close_read(term()) :: :ok | {:error, term()}
  def close_read(state), do: :khepri_export_erlang.close_read(state)
end

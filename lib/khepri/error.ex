defmodule Khepri.Error do
  @moduledoc """
  The exception raised by the bang functions of `Khepri` (`get!`, `put!`, ...)
  when the function they wrap returns `{:error, reason}`.

  Fields:

    * `:reason` - the error reason, unchanged (for instance
      `{:khepri, :node_not_found, %{...}}`, `:noproc` or `:timeout`);
    * `:name` and `:props` - the name and properties map of a Khepri error,
      filled when `reason` is `{:khepri, name, props}`, `nil` otherwise.

  It can be raised with the reason alone or with keyword options:

      raise Khepri.Error, {:khepri, :node_not_found, %{node_name: :oak}}
      raise Khepri.Error, reason: :noproc

  Only errors *returned* by the API become a `Khepri.Error`: exceptions raised
  by the Erlang side for API misuse stay `ErlangError`s with `original:
  {:khepri_ex, name, props}`.
  """

  defexception [:reason, :name, :props]

  @type t :: %__MODULE__{
          reason: term(),
          name: atom() | nil,
          props: map() | nil
        }

  @doc """
  Builds the exception from an error reason, or from keyword options with a
  `:reason` key (a keyword list holding `:reason` is always read as options).
  """
  @impl true
  def exception(opts) when is_list(opts) and opts != [] do
    if Keyword.keyword?(opts) and Keyword.has_key?(opts, :reason) do
      opts |> Keyword.fetch!(:reason) |> from_reason()
    else
      from_reason(opts)
    end
  end

  def exception(reason), do: from_reason(reason)

  defp from_reason({:khepri, name, props} = reason) when is_atom(name) and is_map(props),
    do: %__MODULE__{reason: reason, name: name, props: props}

  defp from_reason(reason), do: %__MODULE__{reason: reason}

  @impl true
  def message(%__MODULE__{name: name, props: props}) when is_atom(name) and is_map(props) do
    details =
      props
      |> Enum.sort()
      |> Enum.map_join(", ", fn {key, value} -> "#{key}: #{inspect(value)}" end)

    case details do
      "" -> "Khepri error #{inspect(name)}"
      _ -> "Khepri error #{inspect(name)} (#{details})"
    end
  end

  def message(%__MODULE__{reason: :noproc}),
    do: "Khepri error: the store is not running on this node (:noproc)"

  def message(%__MODULE__{reason: :timeout}),
    do: "Khepri error: the operation timed out (:timeout)"

  def message(%__MODULE__{reason: reason}),
    do: "Khepri error: #{inspect(reason)}"
end

defmodule Khepri.Payload do
  @moduledoc """
  Payload constructors, the Elixir face of `:khepri_payload`.

  Writes accept any term as data and a function as a stored procedure; these
  functions make the intent explicit (for instance to store a function as
  data, or to store nothing):

      :ok = Khepri.put(:my_store, "/:stock/:wood", Khepri.Payload.none())
      :ok = Khepri.put(:my_store, "/:procs/:hello", Khepri.Payload.sproc(fn -> :hi end))
  """

  @typedoc "`:\"$__NO_PAYLOAD__\"`, `{:p_data, term}` or `{:p_sproc, fun, class}`."
  @type payload :: :"$__NO_PAYLOAD__" | {:p_data, term()} | {:p_sproc, function(), atom()}

  @doc "The absence of payload, `:\"$__NO_PAYLOAD__\"`."
  @spec none() :: :"$__NO_PAYLOAD__"
  defdelegate none(), to: :khepri_payload

  @doc "An explicit data payload, `{:p_data, term}`."
  @spec data(term()) :: {:p_data, term()}
  defdelegate data(term), to: :khepri_payload

  @doc "An explicit stored-procedure payload, `{:p_sproc, fun, false}`."
  @spec sproc(function()) :: {:p_sproc, function(), false}
  defdelegate sproc(fun), to: :khepri_payload

  @doc "Returns a payload as is; a function becomes `sproc/1`, any other term `data/1`."
  @spec wrap(term()) :: payload()
  defdelegate wrap(term), to: :khepri_payload

  @doc """
  Internal: validates a wrapped payload (raises `{:khepri_ex,
  :invalid_payload, _}`) and marks a stored procedure as `:rw`.
  """
  @spec prepare(payload()) :: payload()
  defdelegate prepare(payload), to: :khepri_payload

  @doc """
  Internal: the engine's form of the payload given for `path` (`:none`,
  `{:data, etf}` or `{:sproc, etf}`).
  """
  @spec encode(term(), term()) :: :none | {:data, binary()} | {:sproc, binary()}
  defdelegate encode(path, data), to: :khepri_payload
end

defmodule Khepri.Condition do
  @moduledoc """
  Path conditions, the Elixir face of `:khepri_condition`.

  Each condition record of `include/khepri.hrl` has a record macro here, with
  the same fields and defaults (they are read from the header at compile
  time, so the two cannot drift apart):

      require Khepri.Condition
      import Khepri.Condition

      [:stock, if_name_matches(regex: "^oak"), if_has_data()]
      if_node_exists(exists: false)
      if_all(conditions: [:wood, if_child_list_length(count: {:gt, 0})])

  A bare atom or binary inside `if_all/1`, `if_any/1` or `if_not/1` means
  "the node's name equals this".
  """

  require Record

  @header Path.expand("../../include/khepri.hrl", __DIR__)
  @external_resource @header

  @records [
    :if_name_matches,
    :if_path_matches,
    :if_has_payload,
    :if_has_data,
    :if_has_sproc,
    :if_data_matches,
    :if_node_exists,
    :if_payload_version,
    :if_child_list_version,
    :if_child_list_length,
    :if_not,
    :if_all,
    :if_any
  ]

  for name <- @records do
    Record.defrecord(name, Record.extract(name, from: @header))
  end
end

%% @doc Behaviour of the callback modules used by `khepri:export' and
%% `khepri:import' (SPEC 2.13, 4.10).
%%
%% The callbacks are those of Mnesia backup modules, so such a module can be
%% reused as is. `ModulePriv' is the module's own state: the argument given
%% to `khepri:export'/`khepri:import' for the first call, then whatever the
%% previous callback returned.
%%
%% Export calls `open_write/1', then `write/2' any number of times (with the
%% items in tree order, parents before children), then `commit_write/1'; if
%% anything fails after `open_write/1', `abort_write/1' is called instead of
%% `commit_write/1'.
%%
%% Import calls `open_read/1', then `read/1' until it returns no items, then
%% `close_read/1', which is also called when reading or applying an item
%% fails. Items must come back as they were written, in the same order.
%%
%% Items are opaque to the callback module (SPEC 4.10 describes them for
%% those who write their own).

-module(khepri_import_export).

-type module_priv() :: any().
%% The state of a callback module.

-type backup_item() :: any().
%% One exported node or operation; opaque to callback modules.

-export_type([module_priv/0,
              backup_item/0]).

%% Starts an export.
-callback open_write(ModulePriv) -> Ret when
      ModulePriv :: module_priv(),
      Ret :: {ok, ModulePriv} | {error, any()}.

%% Writes some items.
-callback write(ModulePriv, BackupItems) -> Ret when
      ModulePriv :: module_priv(),
      BackupItems :: [backup_item()],
      Ret :: {ok, ModulePriv} | {error, any()}.

%% Ends a successful export; `{ok, Term}' is returned to the caller.
-callback commit_write(ModulePriv) -> Ret when
      ModulePriv :: module_priv(),
      Ret :: ok | {ok, ModulePriv} | {error, any()}.

%% Ends a failed export.
-callback abort_write(ModulePriv) -> Ret when
      ModulePriv :: module_priv(),
      Ret :: ok | {error, any()}.

%% Starts an import.
-callback open_read(ModulePriv) -> Ret when
      ModulePriv :: module_priv(),
      Ret :: {ok, ModulePriv} | {error, any()}.

%% Reads the next items; `[]' means there are no more.
-callback read(ModulePriv) -> Ret when
      ModulePriv :: module_priv(),
      Ret :: {ok, BackupItems, ModulePriv} | {error, any()},
      BackupItems :: [backup_item()].

%% Ends an import, successful or not; `{ok, Term}' is returned to the
%% caller of a successful import.
-callback close_read(ModulePriv) -> Ret when
      ModulePriv :: module_priv(),
      Ret :: ok | {ok, ModulePriv} | {error, any()}.

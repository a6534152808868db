%% What `khepri_tx' passes to `khepri_ops' in place of a store id: the
%% transaction's handle and its mode (`ro', `rw' or `auto').
-define(TX_SOURCE(Tx, Mode), {'$khepri_tx', Tx, Mode}).

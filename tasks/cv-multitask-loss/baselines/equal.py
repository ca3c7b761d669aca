class MultiTaskLoss(nn.Module):
    """Combine the fine (100-class) and coarse (20-class) losses into one.

    forward(fine_loss, coarse_loss, epoch, total_epochs) -> scalar tensor
      fine_loss, coarse_loss: scalar cross-entropy tensors of this batch;
      epoch: the current epoch, 0-indexed; total_epochs: schedule length.
    The value returned is what the loop backpropagates and what it logs as
    train_loss. Parameters registered here are trained by the same SGD
    optimizer (with weight decay); any other state may be kept here too.
    Optional gradient hook: define backward(self, task_losses, shared_params)
    to set the backbone's gradients yourself instead (see task_backward
    above; PCGrad-style methods need it).

    Default: equal weighting, fine_loss + coarse_loss.
    """

    def __init__(self, num_tasks=2):
        super().__init__()
        self.num_tasks = num_tasks

    def forward(self, fine_loss, coarse_loss, epoch, total_epochs):
        return fine_loss + coarse_loss
